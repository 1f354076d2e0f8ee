import Foundation
import Testing
import TestSupport
@testable import Index

/// Writes under concurrency: group commit (concurrent writers share log records and fsyncs, and every
/// acknowledged write is replayed), batch records in the log (torn, damaged, and version 1 logs without them),
/// and snapshots taken while writes go on, at every step a crash can stop them.
@Suite struct ConcurrentWriteTests {
    func open(_ directory: TemporaryDirectory) throws -> LocalIndex {
        try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
    }

    func item(_ id: String, _ seed: UInt64, dimensions d: Int = 8) -> IndexItem {
        var random = SeededRandom(seed: seed)
        return IndexItem(id: id, vector: normalized(random.vector(d)), metadata: ["seed": .number(Double(seed))], modality: .text)
    }

    /// `writers` tasks, each upserting `writesEach` single items into "c"; returns every item written.
    func writeConcurrently(_ index: LocalIndex, writers: Int, writesEach: Int, prefix: String = "w") async throws -> [IndexItem] {
        try await withThrowingTaskGroup(of: [IndexItem].self) { group in
            for w in 0..<writers {
                group.addTask {
                    var written: [IndexItem] = []
                    for i in 0..<writesEach {
                        let item = self.item("\(prefix)\(w)-\(i)", UInt64(w * 10_000 + i))
                        try await index.upsert([item], into: "c")
                        written.append(item)
                    }
                    return written
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// A durable index in a fresh directory, holding an empty 8-d collection "c".
    func indexWithCollection() async throws -> (TemporaryDirectory, LocalIndex) {
        let directory = TemporaryDirectory()
        let index = try open(directory)
        _ = try await index.createCollection(spec("c", dimensions: 8))
        return (directory, index)
    }

    func expectHolds(_ index: LocalIndex, _ items: [IndexItem]) async throws {
        let found = try await index.get(ids: items.map(\.id), from: "c", includeVectors: true)
        #expect(found.missing.isEmpty, "missing \(found.missing.prefix(5))")
        for (item, stored) in zip(items, found.items) {
            #expect(stored.id == item.id && stored.metadata == item.metadata && stored.vector == item.vector)
        }
    }

    @Test func concurrentWritersShareFsyncsAndEveryAcknowledgedWriteIsReplayed() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let writers = 16, writesEach = 40
        let written: [IndexItem]
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("c", dimensions: 8))
            let syncsBefore = index.logSyncs
            written = try await writeConcurrently(index, writers: writers, writesEach: writesEach)
            let syncs = index.logSyncs - syncsBefore
            // Each flush is one record, one write and one fsync; writers that queued during an fsync share the
            // next one.
            #expect(syncs < writers * writesEach, "\(syncs) fsyncs for \(writers * writesEach) writes")
            #expect(syncs > 0)
            try await expectHolds(index, written)
            index.close()
        }
        // Killed here (no snapshot): the log alone brings back every acknowledged write.
        let reopened = try open(directory)
        defer { reopened.close() }
        #expect(reopened.recovery.items == writers * writesEach)
        #expect(reopened.recovery.replayedRecords < 1 + writers * writesEach)
        try await expectHolds(reopened, written)
    }

    @Test func writesInterleavedWithExclusiveOnesKeepTheirOrder() async throws {
        // Deletes and collection changes wait for every queued upsert and hold later ones back: replaying the
        // log must give the same index as the one that acknowledged them.
        let (directory, index) = try await indexWithCollection()
        defer { directory.cleanup() }
        async let written = writeConcurrently(index, writers: 8, writesEach: 30)
        for round in 0..<10 {
            _ = try await index.createCollection(spec("x\(round)", dimensions: 4))
            _ = try await index.delete(ids: ["w0-\(round)", "w1-\(round)"], from: "c")
            try await index.deleteCollection("x\(round)")
        }
        _ = try await written
        let ids = (0..<8).flatMap { w in (0..<30).map { "w\(w)-\($0)" } }
        let live = try await index.get(ids: ids, from: "c", includeVectors: true)
        let reopened = try open2(directory, after: index)
        defer { reopened.close() }
        let replayed = try await reopened.get(ids: ids, from: "c", includeVectors: true)
        #expect(replayed.missing == live.missing && replayed.items == live.items)
        #expect(await reopened.listCollections().map(\.spec.name) == ["c"])
    }

    // MARK: Batch records

    /// A log of a collection's creation and one batch record of three upserts.
    func batchLog(in directory: TemporaryDirectory) throws -> (log: [UInt8], batchStart: Int, items: [IndexItem]) {
        let path = directory.path + "/" + LocalIndex.logName
        let (log, _) = try WriteAheadLog.open(path: path)
        try log.append(WriteAheadLog.record(lsn: 1, encoded: [LogOperation.createCollection(spec("c", dimensions: 8)).encoded()]))
        let batchStart = log.byteCount
        let items = (0..<3).map { item("b\($0)", UInt64($0)) }
        try log.append(WriteAheadLog.record(lsn: 2, encoded: items.map { try LogOperation.upsert(collection: "c", items: [$0]).encoded() }))
        log.close()
        return (Array(try Data(contentsOf: URL(fileURLWithPath: path))), batchStart, items)
    }

    @Test func aBatchRecordReplaysWholeAndATornOneNotAtAll() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let (log, batchStart, items) = try batchLog(in: directory)
        let path = directory.path + "/" + LocalIndex.logName
        do {
            let index = try open(directory)
            #expect(index.recovery.replayedRecords == 2)
            try await expectHolds(index, items)
            index.close()
        }
        // A crash during the batch's write tears only that record: none of its writes was acknowledged.
        for cut in stride(from: batchStart, to: log.count, by: 7) {
            try Data(log[..<cut]).write(to: URL(fileURLWithPath: path))
            let index = try open(directory)
            #expect(try await index.collection("c").count == 0, "cut at \(cut)")
            #expect(index.recovery.truncatedBytes == cut - batchStart)
            index.close()
        }
    }

    @Test func damageInABatchRecordWithARecordAfterItRefusesToOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        var (log, batchStart, _) = try batchLog(in: directory)
        let path = directory.path + "/" + LocalIndex.logName
        do {
            // One more record after the batch.
            let (wal, _) = try WriteAheadLog.open(path: path)
            try wal.append(WriteAheadLog.record(lsn: 3, encoded: [LogOperation.deleteCollection("c").encoded()]))
            wal.close()
            log = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        log[batchStart + 40] ^= 0x10
        try Data(log).write(to: URL(fileURLWithPath: path))
        do {
            _ = try open(directory)
            Issue.record("a log damaged before its last record opened")
        } catch let error as IndexError {
            guard case .damagedLog(_, let offset, _, let after, _) = error else { throw error }
            #expect(offset == batchStart && after == 1)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(log))
    }

    @Test func aVersion1LogIsReadAndUpgradedBeforeItIsWritten() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.path + "/" + LocalIndex.logName
        let written: [IndexItem]
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("c", dimensions: 8))
            written = (0..<4).map { item("v\($0)", UInt64($0)) }
            for item in written { try await index.upsert([item], into: "c") }
            index.close()
        }
        // One operation per record, as version 1 wrote them: only the header differs.
        var log = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        log.replaceSubrange(0..<8, with: WriteAheadLog.magicVersion1)
        try Data(log).write(to: URL(fileURLWithPath: path))
        let index = try open(directory)
        defer { index.close() }
        #expect(index.recovery.replayedRecords == 5)
        try await expectHolds(index, written)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8)) == WriteAheadLog.magic)
    }

    /// The fuzz-wal seed in group commit's format (Fuzz/Corpus/fuzz-wal/batch-record: the sample log's first
    /// record, then all the others as one batch record) replays like the sample.
    @Test func theBatchRecordFuzzSeedReplays() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let seed = try Data(contentsOf: RepositoryPaths.root.appendingPathComponent("Fuzz/Corpus/fuzz-wal/batch-record"))
        try seed.dropFirst().write(to: URL(fileURLWithPath: directory.path + "/" + LocalIndex.logName))
        let index = try open(directory)
        defer { index.close() }
        #expect(index.recovery.replayedRecords == 2 && index.recovery.truncationReason == nil)
        #expect(await index.listCollections().map(\.spec.name) == ["b", "f", "q"])
        #expect(try await index.collection("f").count == 2)
    }

    // MARK: Snapshots while writing

    @Test func aSnapshotTakenWhileWritersRunLosesNothing() async throws {
        let (directory, index) = try await indexWithCollection()
        defer { directory.cleanup() }
        async let written = writeConcurrently(index, writers: 4, writesEach: 60)
        var snapshots = 0
        for _ in 0..<20 {
            if try index.snapshot() { snapshots += 1 }
        }
        let items = try await written
        #expect(snapshots > 0)
        // The segments a snapshot covers are gone; what it does not cover is in the log.
        #expect(try WriteAheadLog.closedSegments(of: directory.path + "/" + LocalIndex.logName).isEmpty)
        let reopened = try open2(directory, after: index)
        defer { reopened.close() }
        try await expectHolds(reopened, items)
        #expect(try await reopened.collection("c").count == items.count)
    }

    /// The files a crash can leave at each step of a snapshot, each reopened to the same index: writes A are
    /// in the old snapshot, B in the log when the snapshot started, C written during it.
    @Test func aCrashAtEveryStepOfASnapshotLosesNothing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let logPath = directory.path + "/" + LocalIndex.logName
        let snapshotPath = directory.path + "/" + LocalIndex.snapshotName
        let index = try open(directory)
        _ = try await index.createCollection(spec("c", dimensions: 8))
        let a = (0..<5).map { item("a\($0)", UInt64($0)) }
        try await index.upsert(a, into: "c")
        try index.snapshot()
        let oldSnapshot = try Data(contentsOf: URL(fileURLWithPath: snapshotPath))
        let b = (0..<5).map { item("b\($0)", UInt64(100 + $0)) }
        for item in b { try await index.upsert([item], into: "c") }
        let logB = try Data(contentsOf: URL(fileURLWithPath: logPath))
        let lsnB = UInt64(1 + 1 + b.count)
        try index.snapshot()
        let newSnapshot = try Data(contentsOf: URL(fileURLWithPath: snapshotPath))
        let c = (0..<5).map { item("c\($0)", UInt64(200 + $0)) }
        for item in c { try await index.upsert([item], into: "c") }
        let logC = try Data(contentsOf: URL(fileURLWithPath: logPath))
        index.close()
        let segment = WriteAheadLog.segmentPath(of: logPath, lastLSN: lsnB)

        func reopen(_ files: [String: Data], expecting items: [IndexItem]) async throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name != LocalIndex.lockName {
                try FileManager.default.removeItem(atPath: directory.path + "/" + name)
            }
            for (path, bytes) in files { try bytes.write(to: URL(fileURLWithPath: path)) }
            let reopened = try open(directory)
            defer { reopened.close() }
            try await expectHolds(reopened, items)
            #expect(try await reopened.collection("c").count == items.count)
            #expect(!FileManager.default.fileExists(atPath: logPath + ".new"))
            #expect(!FileManager.default.fileExists(atPath: snapshotPath + ".tmp"))
        }
        let empty = Data(WriteAheadLog.magic)
        // The new log created, nothing renamed yet.
        try await reopen([snapshotPath: oldSnapshot, logPath: logB, logPath + ".new": empty], expecting: a + b)
        // The log renamed to a segment, the new log not yet in place.
        try await reopen([snapshotPath: oldSnapshot, segment: logB, logPath + ".new": empty], expecting: a + b)
        // Rotated; C written to the new log; the snapshot half written.
        try await reopen([snapshotPath: oldSnapshot, segment: logB, logPath: logC, snapshotPath + ".tmp": newSnapshot.prefix(40)],
                         expecting: a + b + c)
        // The snapshot renamed, its segment not yet removed (which opening then does).
        try await reopen([snapshotPath: newSnapshot, segment: logB, logPath: logC], expecting: a + b + c)
        #expect(!FileManager.default.fileExists(atPath: segment))
        // Done.
        try await reopen([snapshotPath: newSnapshot, logPath: logC], expecting: a + b + c)
    }

    /// Reopens after closing `previous` (which releases the directory).
    func open2(_ directory: TemporaryDirectory, after previous: LocalIndex) throws -> LocalIndex {
        previous.close()
        return try open(directory)
    }
}
