import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded `VectorIndex`: collections in memory, searched exactly with BLAS; durable when given a data
/// directory (write-ahead log + snapshots), nothing on disk otherwise.
///
/// Writes are serialised by one writer lock: validate, append to the log and fsync, apply in memory, return.
/// So the log order is the order writes were applied, a write that throws left no trace, and one that returns
/// survives a crash (kill -9 included). Searches do not take the writer lock: they read-lock their
/// collection only, so they run concurrently with each other and wait only while a write is being applied
/// to that collection. Work runs on a concurrent dispatch queue, off Swift's cooperative pool (it blocks on
/// fsync and on long scans).
public final class LocalIndex: VectorIndex {
    public struct Configuration: Sendable {
        /// Where the log and snapshots live; nil keeps everything in memory only.
        public var dataDirectory: String?
        public var maxCollections: Int = 1_000
        /// Workers for one search over a large collection.
        public var searchThreads: Int = 1
        /// Binary storage re-ranks max(k * binaryRerankFactor, binaryMinCandidates) Hamming candidates.
        public var binaryRerankFactor: Int = 10
        public var binaryMinCandidates: Int = 100
        /// What to do with a write-ahead log damaged before its end (valid records after the damage).
        public var logRecovery: LogRecovery = .refuse

        public init(dataDirectory: String?) {
            self.dataDirectory = dataDirectory
        }
    }

    /// What opening a durable index found on disk.
    public struct Recovery: Sendable {
        public var collections = 0
        public var items = 0
        public var snapshotLSN: UInt64 = 0
        public var replayedRecords = 0
        /// Bytes cut from the end of the log (a torn last record; with `LogRecovery.truncate`, everything from
        /// the damage on) and why.
        public var truncatedBytes = 0
        public var truncationReason: String?
        /// With `LogRecovery.truncate`: the valid records after the damage that were cut (their writes are
        /// lost), and the copy of the log as it was.
        public var droppedRecords = 0
        public var keptCopy: String?
    }

    private struct Writer: @unchecked Sendable {
        var log: WriteAheadLog?
        var lockFile: DataFile?
        var nextLSN: UInt64 = 1
        var changesSinceSnapshot = 0
    }

    public let configuration: Configuration
    private let collections = Mutex<[String: CollectionStore]>([:])
    private let writer: Mutex<Writer>
    private let queue = DispatchQueue(label: "rosetta.index", qos: .userInitiated, attributes: .concurrent)
    private let tuning: CollectionStore.SearchTuning

    static let logName = "index.wal"
    static let snapshotName = "index.snapshot"
    static let lockName = "LOCK"

    /// Opens the index: in memory, or from `dataDirectory` (created when missing) by loading the snapshot and
    /// replaying the log after it. Only one server may open a directory at a time. A torn last log record is
    /// cut off; a log damaged before its end is refused (`damagedLog`) unless `configuration.logRecovery` is
    /// `.truncate`.
    public init(_ configuration: Configuration) throws(IndexError) {
        self.configuration = configuration
        var tuning = CollectionStore.SearchTuning()
        tuning.threads = max(1, configuration.searchThreads)
        tuning.rerankFactor = max(1, configuration.binaryRerankFactor)
        tuning.minCandidates = max(1, configuration.binaryMinCandidates)
        self.tuning = tuning
        writer = Mutex(Writer())
        guard let directory = configuration.dataDirectory else { return }

        try DataFile.makeDirectory(directory)
        let lockFile = try DataFile(path: directory + "/" + Self.lockName, mode: .readWrite)
        guard flock(lockFile.fd, LOCK_EX | LOCK_NB) == 0 else {
            throw .storage(operation: "lock", path: lockFile.path, reason: "another server is using this data directory")
        }
        let snapshotPath = directory + "/" + Self.snapshotName
        DataFile.remove(snapshotPath + ".tmp")
        var recovery = Recovery()
        if DataFile.exists(snapshotPath) {
            let (stores, lsn) = try Snapshot.read(from: snapshotPath)
            collections.withLock { map in for store in stores { map[store.spec.name] = store } }
            recovery.snapshotLSN = lsn
        }
        let (log, found) = try WriteAheadLog.open(
            path: directory + "/" + Self.logName, policy: configuration.logRecovery, snapshotLSN: recovery.snapshotLSN)
        recovery.truncatedBytes = found.truncatedBytes
        recovery.truncationReason = found.truncationReason
        recovery.droppedRecords = found.droppedRecords
        recovery.keptCopy = found.keptCopy
        var lastLSN = recovery.snapshotLSN
        for record in found.records where record.lsn > recovery.snapshotLSN {
            do {
                try validate(record.operation)
            } catch {
                throw .corrupt(path: log.path, reason: "log record \(record.lsn) cannot be replayed: \(error)")
            }
            apply(record.operation)
            recovery.replayedRecords += 1
            lastLSN = max(lastLSN, record.lsn)
        }
        guard lastLSN < UInt64.max else {
            // A CRC-valid record (or snapshot) with the largest LSN: no write could follow it.
            throw .corrupt(path: lastLSN == recovery.snapshotLSN ? snapshotPath : log.path,
                           reason: "it claims log sequence number \(lastLSN), the largest there is, so no write could follow")
        }
        let infos = collections.withLock { $0.values.map(\.info) }
        recovery.collections = infos.count
        recovery.items = infos.reduce(0) { $0 + $1.count }
        recoveryState.withLock { [recovery] in $0 = recovery }
        let replayed = recovery.replayedRecords
        writer.withLock { state in
            state.log = log
            state.lockFile = lockFile
            state.nextLSN = lastLSN + 1
            state.changesSinceSnapshot = replayed
        }
    }

    /// What `init` found on disk (all zero in memory).
    public var recovery: Recovery { recoveryState.withLock { $0 } }
    private let recoveryState = Mutex(Recovery())

    public var isDurable: Bool { configuration.dataDirectory != nil }

    // MARK: VectorIndex

    public func createCollection(_ spec: CollectionSpec) async throws(IndexError) -> CollectionInfo {
        try await run { () throws(IndexError) in
            try self.write(.createCollection(spec))
            return try self.store(spec.name).info
        }
    }

    public func deleteCollection(_ name: String) async throws(IndexError) {
        try await run { () throws(IndexError) in try self.write(.deleteCollection(name)) }
    }

    public func listCollections() async -> [CollectionInfo] {
        collections.withLock { Array($0.values) }.map(\.info).sorted { $0.spec.name < $1.spec.name }
    }

    public func collection(_ name: String) async throws(IndexError) -> CollectionInfo {
        try store(name).info
    }

    public func upsert(_ items: [IndexItem], into collection: String) async throws(IndexError) {
        try await run { () throws(IndexError) in try self.write(.upsert(collection: collection, items: items)) }
    }

    public func delete(ids: [String], from collection: String) async throws(IndexError) -> Int {
        try await run { () throws(IndexError) in
            try self.writer.withLock { state throws(IndexError) in
                let store = try self.store(collection)
                var seen = Set<String>()
                let present = store.get(ids, includeVectors: false).items.map(\.id).filter { seen.insert($0).inserted }
                guard !present.isEmpty else { return 0 }
                try self.commit(.delete(collection: collection, ids: present), state: &state)
                return present.count
            }
        }
    }

    public func delete(matching filter: Filter, from collection: String) async throws(IndexError) -> Int {
        try await run { () throws(IndexError) in
            try self.writer.withLock { state throws(IndexError) in
                let matching = try self.store(collection).ids(matching: filter)
                guard !matching.isEmpty else { return 0 }
                try self.commit(.delete(collection: collection, ids: matching), state: &state)
                return matching.count
            }
        }
    }

    public func get(ids: [String], from collection: String, includeVectors: Bool) async throws(IndexError)
        -> (items: [StoredItem], missing: [String])
    {
        try await run { () throws(IndexError) in try self.store(collection).get(ids, includeVectors: includeVectors) }
    }

    public func search(_ queries: [SearchQuery], in collection: String) async throws(IndexError) -> [[SearchHit]] {
        try await run { () throws(IndexError) in try self.searchNow(queries, in: collection) }
    }

    /// `search`, on the caller's thread (benchmarks and tests).
    public func searchNow(_ queries: [SearchQuery], in collection: String) throws(IndexError) -> [[SearchHit]] {
        let store = try store(collection)
        for query in queries where query.vector.count != store.spec.dimensions {
            throw .dimensionMismatch(collection: collection, expected: [store.spec.dimensions], actual: query.vector.count)
        }
        return store.search(queries, tuning: tuning)
    }

    // MARK: Snapshots

    /// Writes a snapshot when anything changed since the last one, then empties the log. Writes wait while it
    /// runs; searches do not. Returns whether a snapshot was written.
    @discardableResult
    public func snapshot() throws(IndexError) -> Bool {
        guard let directory = configuration.dataDirectory else { return false }
        return try writer.withLock { state throws(IndexError) in
            guard state.changesSinceSnapshot > 0, let log = state.log else { return false }
            let stores = collections.withLock { Array($0.values) }.sorted { $0.spec.name < $1.spec.name }
            try Snapshot.write(stores, lsn: state.nextLSN - 1, to: directory + "/" + Self.snapshotName, directory: directory)
            state.changesSinceSnapshot = 0
            try log.reset()
            return true
        }
    }

    /// Closes the log and releases the data directory (another `LocalIndex` may then open it). Later writes
    /// fail with `logFailed`; searches still work on what is in memory.
    public func close() {
        writer.withLock { state in
            state.log?.close()
            state.lockFile = nil
        }
    }

    /// Bytes in the write-ahead log now (0 in memory).
    public var logBytes: Int { writer.withLock { $0.log?.byteCount ?? 0 } }

    // MARK: Writing

    private func write(_ operation: LogOperation) throws(IndexError) {
        try writer.withLock { state throws(IndexError) in try commit(operation, state: &state) }
    }

    /// Validates, logs (fsynced) and applies one operation. Call with the writer lock held.
    private func commit(_ operation: LogOperation, state: inout Writer) throws(IndexError) {
        try validate(operation)
        try state.log?.append(lsn: state.nextLSN, operation)
        state.nextLSN += 1
        state.changesSinceSnapshot += 1
        apply(operation)
    }

    /// Throws when `operation` cannot be applied to the index as it is now.
    private func validate(_ operation: LogOperation) throws(IndexError) {
        switch operation {
        case .createCollection(let spec):
            if let problem = CollectionSpec.problem(withName: spec.name) {
                throw .invalidCollectionName(spec.name, reason: problem)
            }
            let (exists, count) = collections.withLock { ($0[spec.name] != nil, $0.count) }
            if exists { throw .collectionExists(spec.name) }
            if count >= configuration.maxCollections { throw .tooManyCollections(limit: configuration.maxCollections) }
            guard spec.dimensions > 0 else { throw .invalidVector("a collection needs at least one dimension") }
        case .deleteCollection(let name):
            _ = try store(name)
        case let .upsert(collection, items):
            let store = try store(collection)
            for item in items where item.vector.count != store.spec.dimensions {
                throw .dimensionMismatch(collection: collection, expected: [store.spec.dimensions], actual: item.vector.count)
            }
        case .delete(let collection, _):
            _ = try store(collection)
        }
    }

    /// Applies a validated operation (cannot fail).
    private func apply(_ operation: LogOperation) {
        switch operation {
        case .createCollection(let spec):
            collections.withLock { $0[spec.name] = CollectionStore(spec: spec) }
        case .deleteCollection(let name):
            collections.withLock { _ = $0.removeValue(forKey: name) }
        case let .upsert(collection, items):
            collections.withLock { $0[collection] }?.upsert(items)
        case let .delete(collection, ids):
            _ = collections.withLock { $0[collection] }?.delete(ids)
        }
    }

    private func store(_ name: String) throws(IndexError) -> CollectionStore {
        guard let store = collections.withLock({ $0[name] }) else { throw .collectionNotFound(name) }
        return store
    }

    /// Runs `body` on the index queue, off the cooperative pool.
    private func run<T: Sendable>(_ body: @escaping @Sendable () throws(IndexError) -> T) async throws(IndexError) -> T {
        let result: Result<T, IndexError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result(catching: body)) }
        }
        return try result.get()
    }
}
