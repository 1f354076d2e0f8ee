import Domain
import Synchronization
/// One collection in memory: its vectors (a dense `RowStore`), and per row the item's id, metadata and
/// modality, with an id -> row map. A reader/writer lock lets searches run concurrently with each other;
/// a write waits for them and is seen by a search entirely or not at all.
final class CollectionStore: @unchecked Sendable {
    let spec: CollectionSpec
    // Everything below is guarded by `lock`.
    let lock = ReadWriteLock()
    private(set) var rows: any RowStore
    private(set) var ids: [String] = []
    private(set) var metadata: [Metadata] = []
    private(set) var modalities: [Modality] = []
    /// Per row when `spec.keepPreviews`; empty otherwise.
    private(set) var previews: [Preview?] = []
    private var rowOf: [String: Int] = [:]
    /// Set by `frozen()`: the arrays are shared with a snapshot's frozen copy until the next write `unshare`s.
    private let shared = Atomic<Bool>(false)

    init(spec: CollectionSpec) {
        self.spec = spec
        rows = spec.storage.makeRows(dimensions: spec.dimensions)
    }

    var info: CollectionInfo {
        lock.withReadLock {
            CollectionInfo(spec: spec, count: ids.count, vectorBytes: ids.count * rows.bytesPerVector)
        }
    }

    /// Inserts or replaces each item, in order. Vectors must have `spec.dimensions` values (checked by the
    /// caller before the write was logged).
    func upsert(_ items: [IndexItem]) {
        unshare()
        lock.withWriteLock {
            for item in items {
                if let row = rowOf[item.id] {
                    rows.replace(row, with: item.vector)
                    metadata[row] = item.metadata
                    modalities[row] = item.modality
                    if spec.keepPreviews { previews[row] = item.preview }
                } else {
                    rowOf[item.id] = ids.count
                    ids.append(item.id)
                    metadata.append(item.metadata)
                    modalities.append(item.modality)
                    if spec.keepPreviews { previews.append(item.preview) }
                    rows.append(item.vector)
                }
            }
        }
    }

    /// Deletes the items with these ids (swap-remove: the last row moves into the hole); returns how many
    /// existed.
    func delete(_ idsToDelete: [String]) -> Int {
        unshare()
        return lock.withWriteLock {
            var deleted = 0
            for id in idsToDelete {
                guard let row = rowOf.removeValue(forKey: id) else { continue }
                let last = ids.count - 1
                rows.removeSwappingLast(row)
                if row != last {
                    ids[row] = ids[last]
                    metadata[row] = metadata[last]
                    modalities[row] = modalities[last]
                    if spec.keepPreviews { previews[row] = previews[last] }
                    rowOf[ids[row]] = row
                }
                ids.removeLast()
                metadata.removeLast()
                modalities.removeLast()
                if spec.keepPreviews { previews.removeLast() }
                deleted += 1
            }
            return deleted
        }
    }

    func ids(matching filter: Filter) -> [String] {
        lock.withReadLock {
            ids.indices.filter { filter.matches(metadata[$0]) }.map { ids[$0] }
        }
    }

    func get(_ requested: [String], includeVectors: Bool, includePreviews: Bool)
        -> (items: [StoredItem], missing: [String])
    {
        lock.withReadLock {
            var items: [StoredItem] = []
            var missing: [String] = []
            for id in requested {
                guard let row = rowOf[id] else {
                    missing.append(id)
                    continue
                }
                items.append(StoredItem(
                    id: id, metadata: metadata[row], modality: modalities[row],
                    vector: includeVectors ? rows.vector(row) : nil,
                    preview: includePreviews && spec.keepPreviews ? previews[row] : nil))
            }
            return (items, missing)
        }
    }

    // MARK: Snapshots

    /// A copy of this collection as it is now, for a snapshot to write while this one goes on changing: it
    /// shares the arrays (O(1); the next write here first gives this collection copies of its own, `unshare`;
    /// ids are not mapped to rows). Only `write(to:)` may be called on it.
    func frozen() -> CollectionStore {
        lock.withReadLock {
            shared.store(true, ordering: .releasing)
            let copy = CollectionStore(spec: spec)
            copy.rows = rows.frozen()
            copy.ids = ids
            copy.metadata = metadata
            copy.modalities = modalities
            copy.previews = previews
            return copy
        }
    }

    /// Gives this collection arrays of its own again after `frozen()`, before a write changes them: copied under
    /// the read lock, so searches go on during the copy (a write would otherwise copy them under the write
    /// lock, copy-on-write), and installed under the write lock. Writes to a collection are serialised
    /// (`GroupCommit` applies one flush at a time), so nothing changes between the copy and the swap.
    private func unshare() {
        guard shared.load(ordering: .acquiring) else { return }
        let copy = lock.withReadLock {
            (rows.copy(), ids.copied(), metadata.copied(), modalities.copied(), previews.copied())
        }
        lock.withWriteLock {
            (rows, ids, metadata, modalities, previews) = copy
        }
        shared.store(false, ordering: .releasing)
    }

    /// Spec, ids, modalities, metadata (and previews when the collection keeps them), then the storage's arrays
    /// (read under the read lock: searches go on; for a snapshot it runs on a `frozen()` copy, so writes go on too).
    func write(to writer: inout SnapshotWriter) throws(IndexError) {
        try lock.withReadLock { () throws(IndexError) in
            try writer.write(spec)
            try writer.write(UInt64(ids.count))
            for row in ids.indices {
                try writer.write(ids[row])
                try writer.write(modalities[row].rawValue)
                try writer.write(metadata[row])
                if spec.keepPreviews { try writer.write(previews[row]) }
            }
            try rows.write(to: &writer)
        }
    }

    /// `version`: the snapshot's (1 has no preview options or previews).
    static func read(from reader: inout SnapshotReader, version: UInt8) throws(IndexError) -> CollectionStore {
        let store = CollectionStore(spec: try reader.readSpec(withOptions: version >= 2))
        let d = store.spec.dimensions
        // Every row takes at least its id's length (4 bytes), and its vectors must be addressable.
        let claimed = try reader.read(UInt64.self)
        guard let count = Int(exactly: claimed), count <= reader.remainingBytes / 4, !count.multipliedReportingOverflow(by: d).overflow else {
            throw .corrupt(path: reader.origin, reason: "collection '\(store.spec.name)' claims \(claimed) rows, \(reader.remainingBytes) bytes left")
        }
        for row in 0..<count {
            let id = try reader.readString()
            store.ids.append(id)
            store.rowOf[id] = row
            store.modalities.append(try reader.readModality())
            store.metadata.append(try reader.readMetadata())
            if store.spec.keepPreviews { store.previews.append(try reader.readPreview()) }
        }
        guard store.rowOf.count == count else {
            throw .corrupt(path: reader.origin, reason: "collection '\(store.spec.name)' repeats an id")
        }
        store.rows = switch store.spec.storage {
        case .float32: try Float32Rows.read(from: &reader, dimensions: d, count: count)
        case .int8: try Int8Rows.read(from: &reader, dimensions: d, count: count)
        case .binary: try BinaryRows.read(from: &reader, dimensions: d, count: count)
        }
        return store
    }
}
