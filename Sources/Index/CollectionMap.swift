import Domain
import Synchronization

/// The local index's collections by name, and the two steps of every logged change: `validate` against the
/// collections as they are, then `apply` (which cannot fail). Replaying the log runs the same two steps.
final class CollectionMap: Sendable {
    private let stores = Mutex<[String: CollectionStore]>([:])
    private let maxCollections: Int

    init(maxCollections: Int) {
        self.maxCollections = maxCollections
    }

    func store(_ name: String) throws(IndexError) -> CollectionStore {
        guard let store = stores.withLock({ $0[name] }) else { throw .collectionNotFound(name) }
        return store
    }

    /// Every collection, by name.
    var all: [CollectionStore] {
        stores.withLock { Array($0.values) }.sorted { $0.spec.name < $1.spec.name }
    }

    func insert(_ loaded: [CollectionStore]) {
        stores.withLock { map in for store in loaded { map[store.spec.name] = store } }
    }

    /// Throws when `operation` cannot be applied to the collections as they are now.
    func validate(_ operation: LogOperation) throws(IndexError) {
        switch operation {
        case .createCollection(let spec):
            if let problem = CollectionSpec.problem(withName: spec.name) {
                throw .invalidCollectionName(spec.name, reason: problem)
            }
            let (exists, count) = stores.withLock { ($0[spec.name] != nil, $0.count) }
            if exists { throw .collectionExists(spec.name) }
            if count >= maxCollections { throw .tooManyCollections(limit: maxCollections) }
            guard spec.dimensions > 0 else { throw .invalidVector("a collection needs at least one dimension") }
        case .deleteCollection(let name):
            _ = try store(name)
        case let .upsert(collection, items):
            let store = try store(collection)
            for item in items where item.vector.count != store.spec.dimensions {
                throw .dimensionMismatch(collection: collection, expected: [store.spec.dimensions], actual: item.vector.count)
            }
            for item in items {
                if let preview = item.preview, preview.byteCount > Preview.maxBytes {
                    throw .invalidItem("item '\(item.id)' has a preview of \(preview.byteCount) bytes, over \(Preview.maxBytes)")
                }
            }
        case .delete(let collection, _):
            _ = try store(collection)
        }
    }

    /// Applies a validated operation.
    func apply(_ operation: LogOperation) {
        switch operation {
        case .createCollection(let spec):
            stores.withLock { $0[spec.name] = CollectionStore(spec: spec) }
        case .deleteCollection(let name):
            stores.withLock { _ = $0.removeValue(forKey: name) }
        case let .upsert(collection, items):
            stores.withLock { $0[collection] }?.upsert(items)
        case let .delete(collection, ids):
            _ = stores.withLock { $0[collection] }?.delete(ids)
        }
    }
}
