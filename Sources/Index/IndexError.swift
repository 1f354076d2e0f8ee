/// Errors of the Index module. Service turns them into gRPC statuses (ErrorMapping.swift); each case carries
/// the names and values a client needs to see what was wrong.
public enum IndexError: Error, Sendable, Equatable {
    case collectionNotFound(String)
    case collectionExists(String)
    case invalidCollectionName(String, reason: String)
    case tooManyCollections(limit: Int)
    /// A vector whose length fits neither the collection's dimensions nor (Matryoshka) its model's.
    case dimensionMismatch(collection: String, expected: [Int], actual: Int)
    /// A vector or query from another embedding space than the collection's.
    case spaceMismatch(collection: String, collectionSpace: String, otherSpace: String)
    case invalidVector(String)
    /// Writing or syncing the log or a snapshot failed: nothing of the write was acknowledged.
    case storage(operation: String, path: String, reason: String)
    /// Writing failed for want of space (ENOSPC: the file system is full; EDQUOT: a quota; EFBIG: a file-size
    /// limit): nothing of the write was acknowledged, and it can succeed once room is made.
    case outOfSpace(operation: String, path: String, reason: String)
    /// A write-ahead log damaged before its end: the record at `offset` is short or fails its CRC, and valid
    /// records (`lsns`) follow it, so it is not a torn last write. Cutting the log there would drop them, so
    /// the index refuses to open (found when the server starts; `LogRecovery.truncate` accepts the loss).
    case damagedLog(path: String, offset: Int, reason: String, validRecordsAfter: Int, lsns: ClosedRange<UInt64>)
    /// An earlier write failed in a way that leaves the log's state on disk unknown; the index refuses writes
    /// until the server restarts and replays it.
    case logFailed(reason: String)
    /// A snapshot or log that cannot be read (found when the server starts).
    case corrupt(path: String, reason: String)
    /// An item the backend cannot store as it is (e.g. a NUL character, which PostgreSQL text cannot hold).
    case invalidItem(String)
    /// The backend (a database) cannot be reached now; nothing of the call was applied, and it may be retried.
    case unavailable(String)
    /// The backend failed in a way that is not the request's fault.
    case backend(String)
}

extension IndexError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .collectionNotFound(let name): "collection '\(name)' does not exist"
        case .collectionExists(let name): "collection '\(name)' already exists"
        case let .invalidCollectionName(name, reason): "'\(name)' cannot name a collection: \(reason)"
        case .tooManyCollections(let limit): "the server already holds its limit of \(limit) collections"
        case let .dimensionMismatch(collection, expected, actual):
            "collection '\(collection)' holds \(expected.map(String.init).joined(separator: " or "))-dimensional vectors; this one has \(actual)"
        case let .spaceMismatch(collection, collectionSpace, otherSpace):
            "collection '\(collection)' holds vectors of space '\(collectionSpace)'; this one is from space '\(otherSpace)'"
        case .invalidVector(let reason): reason
        case let .storage(operation, path, reason): "could not \(operation) \(path): \(reason)"
        case let .outOfSpace(operation, path, reason): "could not \(operation) \(path): \(reason)"
        case let .damagedLog(path, offset, reason, count, lsns):
            "\(path) is damaged at byte \(offset) (\(reason)), and \(count) valid record\(count == 1 ? "" : "s") (log sequence numbers \(lsns.lowerBound)-\(lsns.upperBound)) follow it: this is not a torn last write, and cutting the log there would lose acknowledged writes; the log was left as it is"
        case .logFailed(let reason): "the write-ahead log failed earlier (\(reason)); restart the server to replay it"
        case let .corrupt(path, reason): "\(path) is corrupt: \(reason)"
        case .invalidItem(let reason): reason
        case .unavailable(let reason): reason
        case .backend(let reason): reason
        }
    }
}
