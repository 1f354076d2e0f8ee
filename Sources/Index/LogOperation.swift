import Domain
/// One change to the index, as the write-ahead log records it. Replaying the operations in log order over the
/// snapshot they follow rebuilds the index exactly: each was validated before it was logged, so applying it
/// cannot fail, and a delete by filter is logged as the ids it resolved to.
enum LogOperation: Sendable, Equatable {
    case createCollection(CollectionSpec)
    case deleteCollection(String)
    case upsert(collection: String, items: [IndexItem])
    case delete(collection: String, ids: [String])

    /// The number of ids a delete removes (0 for other operations).
    var deletedCount: Int {
        if case .delete(_, let ids) = self { ids.count } else { 0 }
    }

    /// The first byte of each operation (`WriteAheadLog.batchCode` is 5). The options of a collection and the
    /// items' previews came later, as codes of their own: an operation without them is written as before, so a
    /// log without previews stays readable by servers that predate them (which refuse one with previews as
    /// corrupt rather than drop them), and every older log reads as it did.
    private enum Code: UInt8 {
        case createCollection = 1, deleteCollection = 2, upsert = 3, delete = 4
        /// The spec followed by its options byte (`ByteSink.write(_:withOptions:)`).
        case createCollectionWithOptions = 6
        /// Each item followed by its preview (`ByteSink.write(_: Preview?)`).
        case upsertWithPreviews = 7
    }

    /// The operation's bytes, as a log record holds them.
    func encoded() throws(IndexError) -> [UInt8] {
        var writer = ByteWriter()
        try encode(to: &writer)
        return writer.bytes
    }

    func encode<Sink: ByteSink>(to sink: inout Sink) throws(IndexError) {
        switch self {
        case .createCollection(let spec):
            let options = spec.keepPreviews
            try sink.write((options ? Code.createCollectionWithOptions : .createCollection).rawValue)
            try sink.write(spec, withOptions: options)
        case .deleteCollection(let name):
            try sink.write(Code.deleteCollection.rawValue)
            try sink.write(name)
        case let .upsert(collection, items):
            let previews = items.contains { $0.preview != nil }
            try sink.write((previews ? Code.upsertWithPreviews : .upsert).rawValue)
            try sink.write(collection)
            try sink.write(UInt32(items.count))
            for item in items {
                try sink.write(item.id)
                try sink.write(item.modality.rawValue)
                try sink.write(item.metadata)
                try sink.write(UInt32(item.vector.count))
                try sink.writeArray(item.vector)
                if previews { try sink.write(item.preview) }
            }
        case let .delete(collection, ids):
            try sink.write(Code.delete.rawValue)
            try sink.write(collection)
            try sink.write(UInt32(ids.count))
            for id in ids { try sink.write(id) }
        }
    }

    static func decode<Source: ByteSource>(from source: inout Source) throws(IndexError) -> LogOperation {
        let raw = try source.read(UInt8.self)
        let code = Code(rawValue: raw)
        switch code {
        case .createCollection, .createCollectionWithOptions:
            return .createCollection(try source.readSpec(withOptions: code == .createCollectionWithOptions))
        case .deleteCollection:
            return .deleteCollection(try source.readString())
        case .upsert, .upsertWithPreviews:
            let collection = try source.readString()
            let count = Int(try source.read(UInt32.self))
            var items: [IndexItem] = []
            items.reserveCapacity(min(count, 1 << 16))
            for _ in 0..<count {
                let id = try source.readString()
                let modality = try source.readModality()
                let metadata = try source.readMetadata()
                let length = Int(try source.read(UInt32.self))
                guard length <= 1 << 20 else { throw .corrupt(path: source.origin, reason: "a vector of \(length) values") }
                let vector = try source.readArray(Float.self, count: length)
                let preview = code == .upsertWithPreviews ? try source.readPreview() : nil
                items.append(IndexItem(id: id, vector: vector, metadata: metadata, modality: modality, preview: preview))
            }
            return .upsert(collection: collection, items: items)
        case .delete:
            let collection = try source.readString()
            let count = Int(try source.read(UInt32.self))
            var ids: [String] = []
            for _ in 0..<count { ids.append(try source.readString()) }
            return .delete(collection: collection, ids: ids)
        case nil:
            throw .corrupt(path: source.origin, reason: "unknown operation \(raw)")
        }
    }
}
