import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded `VectorIndex`: collections in memory, searched exactly with BLAS; durable when given a data
/// directory (write-ahead log + snapshots), nothing on disk otherwise.
///
/// Writes go through `GroupCommit`: validated in order, logged and fsynced together with the writes that queued
/// while the previous fsync ran, applied in memory, then returned. So the log order is the order writes were
/// applied, a write that throws left no trace, and one that returns survives a crash (kill -9 included).
/// Searches take no writer lock: they read-lock their collection only, so they run concurrently with each
/// other and wait only while a write is being applied to that collection. Snapshots block neither
/// (`snapshot()`). Work runs on a concurrent dispatch queue, off Swift's cooperative pool (it blocks on fsync
/// and on long scans).
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

    public let configuration: Configuration
    private let collections: CollectionMap
    private let commits: GroupCommit
    private let lockFile: Mutex<DataFile?>
    /// Set while a snapshot is being taken: one at a time.
    private let snapshotting = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "rosetta.index", qos: .userInitiated, attributes: .concurrent)
    /// Snapshots run here: a serial queue gets a thread of its own, where a snapshot on `queue` would hold one
    /// of its few workers (as many as cores) for seconds, away from searches and writes.
    private let snapshotQueue = DispatchQueue(label: "rosetta.index.snapshot", qos: .utility)
    private let tuning: CollectionStore.SearchTuning

    static let logName = "index.wal"
    static let snapshotName = "index.snapshot"
    static let lockName = "LOCK"

    /// Opens the index: in memory, or from `dataDirectory` (created when missing) by loading the snapshot and
    /// replaying the log after it (its closed segments, then the log). Only one server may open a directory at a
    /// time. A torn last log record is cut off; a log damaged before its end is refused (`damagedLog`) unless
    /// `configuration.logRecovery` is `.truncate`.
    public init(_ configuration: Configuration) throws(IndexError) {
        self.configuration = configuration
        var tuning = CollectionStore.SearchTuning()
        tuning.threads = max(1, configuration.searchThreads)
        tuning.rerankFactor = max(1, configuration.binaryRerankFactor)
        tuning.minCandidates = max(1, configuration.binaryMinCandidates)
        self.tuning = tuning
        let collections = CollectionMap(maxCollections: configuration.maxCollections)
        self.collections = collections
        guard let directory = configuration.dataDirectory else {
            lockFile = Mutex(nil)
            recovery = Recovery()
            commits = GroupCommit(log: nil, nextLSN: 1, changesSinceSnapshot: 0) { collections.apply($0) }
            return
        }
        let (log, lock, recovery, lastLSN) = try LocalIndex.recover(directory, configuration.logRecovery, into: collections)
        lockFile = Mutex(lock)
        self.recovery = recovery
        commits = GroupCommit(log: log, nextLSN: lastLSN + 1, changesSinceSnapshot: recovery.replayedRecords) { collections.apply($0) }
    }

    /// Locks `directory`, loads its snapshot into `collections` and replays the log segments after it; returns
    /// the log to append to, the lock, what was found and the last LSN.
    private static func recover(_ directory: String, _ policy: LogRecovery, into collections: CollectionMap) throws(IndexError)
        -> (WriteAheadLog, DataFile, Recovery, UInt64)
    {
        try DataFile.makeDirectory(directory)
        let lockFile = try DataFile(path: directory + "/" + Self.lockName, mode: .readWrite)
        guard flock(lockFile.fd, LOCK_EX | LOCK_NB) == 0 else {
            throw .storage(operation: "lock", path: lockFile.path, reason: "another server is using this data directory")
        }
        let snapshotPath = directory + "/" + Self.snapshotName
        let logPath = directory + "/" + Self.logName
        DataFile.remove(snapshotPath + ".tmp")
        DataFile.remove(logPath + ".new")
        var recovery = Recovery()
        if DataFile.exists(snapshotPath) {
            let (stores, lsn) = try Snapshot.read(from: snapshotPath)
            collections.insert(stores)
            recovery.snapshotLSN = lsn
        }
        var lastLSN = recovery.snapshotLSN
        func replay(_ found: WriteAheadLog.Recovery, of path: String) throws(IndexError) {
            recovery.truncatedBytes += found.truncatedBytes
            recovery.truncationReason = found.truncationReason ?? recovery.truncationReason
            recovery.droppedRecords += found.droppedRecords
            recovery.keptCopy = found.keptCopy ?? recovery.keptCopy
            for record in found.records where record.lsn > recovery.snapshotLSN {
                for operation in record.operations {
                    do {
                        try collections.validate(operation)
                    } catch {
                        throw .corrupt(path: path, reason: "log record \(record.lsn) cannot be replayed: \(error)")
                    }
                    collections.apply(operation)
                }
                recovery.replayedRecords += 1
                lastLSN = max(lastLSN, record.lsn)
            }
        }
        for segment in try WriteAheadLog.closedSegments(of: logPath) {
            guard segment.lastLSN > recovery.snapshotLSN else {
                // Written into the snapshot; left by a crash before the snapshot removed it.
                DataFile.remove(segment.path)
                continue
            }
            let (closed, found) = try WriteAheadLog.open(path: segment.path, policy: policy, snapshotLSN: lastLSN)
            closed.close()
            try replay(found, of: segment.path)
        }
        let (log, found) = try WriteAheadLog.open(path: logPath, policy: policy, snapshotLSN: lastLSN)
        try replay(found, of: logPath)
        guard lastLSN < UInt64.max else {
            // A CRC-valid record (or snapshot) with the largest LSN: no write could follow it.
            throw .corrupt(path: lastLSN == recovery.snapshotLSN ? snapshotPath : log.path,
                           reason: "it claims log sequence number \(lastLSN), the largest there is, so no write could follow")
        }
        let infos = collections.all.map(\.info)
        recovery.collections = infos.count
        recovery.items = infos.reduce(0) { $0 + $1.count }
        return (log, lockFile, recovery, lastLSN)
    }

    /// What `init` found on disk (all zero in memory).
    public let recovery: Recovery

    public var isDurable: Bool { configuration.dataDirectory != nil }

    // MARK: VectorIndex

    public func createCollection(_ spec: CollectionSpec) async throws(IndexError) -> CollectionInfo {
        try await run { () throws(IndexError) in
            _ = try self.commits.commitAlone { () throws(IndexError) -> LogOperation? in
                try self.collections.validate(.createCollection(spec))
                return .createCollection(spec)
            }
            return try self.store(spec.name).info
        }
    }

    public func deleteCollection(_ name: String) async throws(IndexError) {
        try await run { () throws(IndexError) in
            _ = try self.commits.commitAlone { () throws(IndexError) -> LogOperation? in
                try self.collections.validate(.deleteCollection(name))
                return .deleteCollection(name)
            }
        }
    }

    public func listCollections() async -> [CollectionInfo] {
        collections.all.map(\.info)
    }

    public func collection(_ name: String) async throws(IndexError) -> CollectionInfo {
        try store(name).info
    }

    /// Previews are logged and kept only for a collection that keeps them.
    public func upsert(_ items: [IndexItem], into collection: String) async throws(IndexError) {
        try await run { () throws(IndexError) in
            var items = items
            if try !self.store(collection).spec.keepPreviews {
                for i in items.indices { items[i].preview = nil }
            }
            let operation = LogOperation.upsert(collection: collection, items: items)
            try self.commits.commit(operation) { () throws(IndexError) in try self.collections.validate(operation) }
        }
    }

    public func delete(ids: [String], from collection: String) async throws(IndexError) -> Int {
        try await run { () throws(IndexError) in
            let committed = try self.commits.commitAlone { () throws(IndexError) -> LogOperation? in
                let store = try self.store(collection)
                var seen = Set<String>()
                let present = store.get(ids, includeVectors: false, includePreviews: false).items.map(\.id).filter { seen.insert($0).inserted }
                return present.isEmpty ? nil : .delete(collection: collection, ids: present)
            }
            return committed?.deletedCount ?? 0
        }
    }

    public func delete(matching filter: Filter, from collection: String) async throws(IndexError) -> Int {
        try await run { () throws(IndexError) in
            let committed = try self.commits.commitAlone { () throws(IndexError) -> LogOperation? in
                let matching = try self.store(collection).ids(matching: filter)
                return matching.isEmpty ? nil : .delete(collection: collection, ids: matching)
            }
            return committed?.deletedCount ?? 0
        }
    }

    public func get(ids: [String], from collection: String, includeVectors: Bool, includePreviews: Bool) async throws(IndexError)
        -> (items: [StoredItem], missing: [String])
    {
        try await run { () throws(IndexError) in try self.store(collection).get(ids, includeVectors: includeVectors, includePreviews: includePreviews) }
    }

    public func search(_ queries: [SearchQuery], in collection: String) async throws(IndexError) -> [[SearchHit]] {
        try await run { () throws(IndexError) in try self.searchNow(queries, in: collection) }
    }

    /// `search`, on the caller's thread (benchmarks and tests).
    public func searchNow(_ queries: [SearchQuery], in collection: String) throws(IndexError) -> [[SearchHit]] {
        let store = try collections.store(collection)
        for query in queries where query.vector.count != store.spec.dimensions {
            throw .dimensionMismatch(collection: collection, expected: [store.spec.dimensions], actual: query.vector.count)
        }
        return store.search(queries, tuning: tuning)
    }

    // MARK: Snapshots

    /// Writes a snapshot when anything changed since the last one, without holding writes or searches for
    /// its length: at a point where every logged write is applied, each collection is frozen (a copy-on-write
    /// copy: the first later write to a collection copies its arrays) and the log is rotated, its records
    /// becoming a closed segment; then, with no lock held, the frozen collections are written to the snapshot
    /// (temporary file, fsync, rename, directory fsync) and the closed segments it covers are removed. A crash
    /// at any step leaves the old snapshot and every segment after it, or the new snapshot and the segments
    /// after it: a restart replays the same writes. One snapshot at a time (a call while one runs returns
    /// false). Returns whether a snapshot was written.
    @discardableResult
    public func snapshot() throws(IndexError) -> Bool {
        guard let directory = configuration.dataDirectory,
              snapshotting.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { snapshotting.store(false, ordering: .releasing) }
        let frozen = try commits.quiesced { (state) throws(IndexError) -> (stores: [CollectionStore], lsn: UInt64, changes: Int)? in
            guard state.changesSinceSnapshot > 0, let log = state.log else { return nil }
            let lsn = state.nextLSN - 1
            if log.byteCount > WriteAheadLog.magic.count {
                // (An empty log holds nothing to close: the segments of a failed snapshot already end at lsn.)
                state.log = try log.rotate(lastLSN: lsn)
                state.logBytes = WriteAheadLog.magic.count
            }
            let changes = state.changesSinceSnapshot
            state.changesSinceSnapshot = 0
            return (collections.all.map { $0.frozen() }, lsn, changes)
        }
        guard let frozen else { return false }
        do throws(IndexError) {
            try Snapshot.write(frozen.stores, lsn: frozen.lsn, to: directory + "/" + Self.snapshotName, directory: directory)
        } catch {
            commits.snapshotFailed(changes: frozen.changes)
            throw error
        }
        WriteAheadLog.removeSegments(of: directory + "/" + Self.logName, through: frozen.lsn)
        return true
    }

    /// `snapshot()` on a thread of its own, off the cooperative pool and the index queue (the server's periodic
    /// snapshots).
    @discardableResult
    public func snapshotInBackground() async throws(IndexError) -> Bool {
        try await run(on: snapshotQueue) { () throws(IndexError) in try self.snapshot() }
    }

    /// Closes the log and releases the data directory (another `LocalIndex` may then open it). Later writes
    /// fail with `logFailed`; searches still work on what is in memory.
    public func close() {
        commits.quiesced { state in state.log?.close() }
        lockFile.withLock { $0 = nil }
    }

    /// Bytes in the write-ahead log now (0 in memory).
    public var logBytes: Int { commits.current.logBytes }

    /// Log records written (each one write and one fsync, shared by the writes that queued together).
    var logSyncs: Int { commits.current.syncs }

    private func store(_ name: String) throws(IndexError) -> CollectionStore {
        try collections.store(name)
    }

    /// Runs `body` on the index queue (or `queue`), off the cooperative pool.
    private func run<T: Sendable>(on queue: DispatchQueue? = nil, _ body: @escaping @Sendable () throws(IndexError) -> T)
        async throws(IndexError) -> T
    {
        let result: Result<T, IndexError> = await withCheckedContinuation { continuation in
            (queue ?? self.queue).async { continuation.resume(returning: Result(catching: body)) }
        }
        return try result.get()
    }
}
