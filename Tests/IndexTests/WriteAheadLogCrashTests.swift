import Foundation
import Testing
@testable import Index

/// Crash safety of the write-ahead log at every byte. A log written by real writes is cut at each offset (a
/// torn write: the crash came while the tail was on its way to the disk), and reopening must give exactly the
/// index as it was after the last whole record: every acknowledged write, and a log that takes new writes where
/// the good records end. A bit flipped at each offset (a bad sector) is a torn tail only in the last record;
/// anywhere before it, valid records follow the damage and reopening must refuse, leaving every file as it
/// was, or with `LogRecovery.truncate` keep a copy and cut the log there.
@Suite struct WriteAheadLogCrashTests {
    /// The log of a few writes of every kind (after a snapshot of the first `snapshotAfter` writes, when
    /// given), its size after each write it holds (`ends[0]` is the bare header), and the index's contents
    /// after each (`states[k]`: after the snapshot and the log's first k records).
    struct History {
        var log: [UInt8] = []
        var snapshot: [UInt8]?
        var ends: [Int] = []
        var states: [Contents] = []
        /// The LSN of the log's first record.
        var firstLSN: UInt64 = 1

        /// The acknowledged prefix whose records all lie before `offset`.
        func writesBefore(_ offset: Int) -> Int { ends.lastIndex { $0 <= offset } ?? 0 }

        var recordCount: Int { ends.count - 1 }
    }

    /// Everything a client can observe: each collection's spec and its items (vectors included).
    struct Contents: Equatable {
        var collections: [CollectionSpec] = []
        var items: [[StoredItem]] = []
    }

    static let ids = (0..<8).map { "id-\($0)" }

    func contents(_ index: LocalIndex) async throws -> Contents {
        var contents = Contents()
        for info in await index.listCollections() {
            contents.collections.append(info.spec)
            contents.items.append(try await index.get(ids: Self.ids, from: info.spec.name, includeVectors: true).items)
        }
        return contents
    }

    func item(_ i: Int, _ x: Float) -> IndexItem {
        IndexItem(id: "id-\(i)", vector: [x, 1, -x, 0.5], metadata: ["n": .number(Double(i)), "s": .string("é\(i)")], modality: .image)
    }

    /// Writes the history through a real `LocalIndex`, recording the log size and contents after each write;
    /// with `snapshotAfter`, a snapshot after that many writes empties the log, which then holds the rest.
    func writeHistory(in directory: TemporaryDirectory, snapshotAfter: Int? = nil) async throws -> History {
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
        let logPath = directory.path + "/" + LocalIndex.logName
        var history = History()
        func record() async throws {
            history.ends.append(try Data(contentsOf: URL(fileURLWithPath: logPath)).count)
            history.states.append(try await contents(index))
        }
        try await record()
        let writes: [() async throws -> Void] = [
            { _ = try await index.createCollection(spec("a", dimensions: 4)) },
            { _ = try await index.createCollection(spec("q", dimensions: 4, storage: .int8)) },
            { try await index.upsert([item(0, 0.1), item(1, 0.2), item(2, 0.3)], into: "a") },
            { try await index.upsert([item(3, 0.4), item(4, 0.5)], into: "q") },
            { _ = try await index.delete(ids: ["id-1"], from: "a") },
            { try await index.upsert([item(0, 0.9), item(5, 0.6)], into: "a") },
            { _ = try await index.createCollection(spec("b", dimensions: 4, storage: .binary)) },
            { try await index.deleteCollection("q") },
            { try await index.upsert([item(6, -0.7)], into: "b") },
        ]
        for (done, write) in writes.enumerated() {
            try await write()
            try await record()
            if done + 1 == snapshotAfter {
                #expect(try index.snapshot())
                history.ends = []
                history.states = []
                history.firstLSN = UInt64(done + 2)
                try await record()
            }
        }
        index.close()
        history.log = Array(try Data(contentsOf: URL(fileURLWithPath: logPath)))
        if snapshotAfter != nil {
            history.snapshot = Array(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + LocalIndex.snapshotName)))
        }
        #expect(history.ends.last == history.log.count && Set(history.states.map(\.collections.count)).count > 1)
        return history
    }

    /// Puts `log` (and the history's snapshot, if any) into `directory`, as the only files there.
    func place(_ log: [UInt8], of history: History, in directory: TemporaryDirectory) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try FileManager.default.removeItem(atPath: directory.path + "/" + name)
        }
        try Data(log).write(to: URL(fileURLWithPath: directory.path + "/" + LocalIndex.logName))
        if let snapshot = history.snapshot {
            try Data(snapshot).write(to: URL(fileURLWithPath: directory.path + "/" + LocalIndex.snapshotName))
        }
    }

    func open(_ directory: TemporaryDirectory, policy: LogRecovery = .refuse) throws(IndexError) -> LocalIndex {
        var configuration = LocalIndex.Configuration(dataDirectory: directory.path)
        configuration.logRecovery = policy
        return try LocalIndex(configuration)
    }

    /// Opens `directory` holding `log` (and the history's snapshot), checks it shows `expected` and that the log
    /// takes a new write that replays, and returns the recovery report.
    func reopen(
        _ directory: TemporaryDirectory, log: [UInt8], history: History? = nil, policy: LogRecovery = .refuse,
        expected: Contents, goodBytes: Int
    ) async throws -> LocalIndex.Recovery {
        let logPath = directory.path + "/" + LocalIndex.logName
        try place(log, of: history ?? History(), in: directory)
        let index = try open(directory, policy: policy)
        let recovery = index.recovery
        #expect(try await contents(index) == expected)
        #expect(try Data(contentsOf: URL(fileURLWithPath: logPath)).count == goodBytes)
        _ = try await index.createCollection(spec("after", dimensions: 2))
        index.close()
        let again = try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
        defer { again.close() }
        #expect(again.recovery.truncationReason == nil)
        #expect(await again.listCollections().map(\.spec.name) == (expected.collections.map(\.name) + ["after"]).sorted())
        return recovery
    }

    /// Runs `body` on the history of a fresh log, with an empty directory to reopen damaged copies in.
    func withHistory(snapshotAfter: Int? = nil, _ body: (History, TemporaryDirectory) async throws -> Void) async throws {
        let source = TemporaryDirectory()
        defer { source.cleanup() }
        let history = try await writeHistory(in: source, snapshotAfter: snapshotAfter)
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try await body(history, directory)
    }

    @Test func tornTailAtEveryByteKeepsExactlyTheAcknowledgedPrefix() async throws {
        try await withHistory { history, directory in
            for cut in 0...history.log.count {
                let writes = history.writesBefore(cut)
                let log = Array(history.log.prefix(cut))
                let recovery = try await reopen(directory, log: log, expected: history.states[writes], goodBytes: history.ends[writes])
                #expect(recovery.truncatedBytes == (cut < WriteAheadLog.magic.count ? cut : cut - history.ends[writes]), "cut at \(cut)")
                #expect((recovery.truncationReason != nil) == (recovery.truncatedBytes > 0), "cut at \(cut)")
            }
        }
    }

    /// One flipped bit at every offset of every record (a different bit at each): in the last record it is a
    /// torn tail, cut off; in any other, the valid records after it make opening refuse with the file, the
    /// offset and how many follow, leaving the files as they were. `truncate` then keeps a copy of the log as
    /// it was and cuts it at the damage. Once, every such damage was cut off silently, acknowledged records
    /// after it included.
    @Test(arguments: [nil, 4])
    func flippedBitInEveryRecordIsATornTailOnlyInTheLast(snapshotAfter: Int?) async throws {
        try await withHistory(snapshotAfter: snapshotAfter) { history, directory in
            #expect(history.recordCount >= 5)
            let logPath = directory.path + "/" + LocalIndex.logName
            var damagedRecords = Set<Int>()
            for offset in WriteAheadLog.magic.count..<history.log.count {
                var log = history.log
                log[offset] ^= 1 << UInt8(offset % 8)
                let damaged = history.writesBefore(offset)
                damagedRecords.insert(damaged)
                let after = history.recordCount - 1 - damaged
                guard after > 0 else {
                    let recovery = try await reopen(directory, log: log, history: history, expected: history.states[damaged], goodBytes: history.ends[damaged])
                    #expect(recovery.truncatedBytes == history.log.count - history.ends[damaged], "flipped bit at \(offset)")
                    #expect(recovery.truncationReason != nil && recovery.droppedRecords == 0 && recovery.keptCopy == nil, "flipped bit at \(offset)")
                    continue
                }
                try place(log, of: history, in: directory)
                do {
                    _ = try open(directory)
                    Issue.record("a log with \(after) valid records after damage at \(offset) was opened")
                } catch IndexError.damagedLog(let path, let at, _, let count, let lsns) {
                    let firstAfter = history.firstLSN + UInt64(damaged + 1)
                    #expect(path == logPath && at == history.ends[damaged] && count == after, "flipped bit at \(offset)")
                    #expect(lsns == firstAfter...(firstAfter + UInt64(after - 1)), "flipped bit at \(offset)")
                } catch {
                    Issue.record("flipped bit at \(offset): \(error)")
                }
                // Nothing was cut, rewritten or added.
                #expect(try Data(contentsOf: URL(fileURLWithPath: logPath)) == Data(log), "flipped bit at \(offset)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                    == ([LocalIndex.lockName, LocalIndex.logName] + (history.snapshot == nil ? [] : [LocalIndex.snapshotName])).sorted())

                let recovery = try await reopen(directory, log: log, history: history, policy: .truncate,
                                                expected: history.states[damaged], goodBytes: history.ends[damaged])
                #expect(recovery.droppedRecords == after && recovery.truncatedBytes == history.log.count - history.ends[damaged])
                let copy = try #require(recovery.keptCopy)
                #expect(copy.hasPrefix(logPath + ".corrupt-"))
                #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(log), "flipped bit at \(offset)")
            }
            #expect(damagedRecords == Set(0..<history.recordCount))
        }
    }

    @Test func damagedLogRefusalNamesTheFileTheOffsetAndTheRecordsAfter() async throws {
        try await withHistory { history, directory in
            var log = history.log
            log[history.ends[2] + 20] ^= 0x10
            try place(log, of: history, in: directory)
            let refusal = #expect(throws: IndexError.self) { _ = try open(directory) }
            let message = "\(refusal.map { "\($0)" } ?? "")"
            #expect(message.contains(directory.path + "/" + LocalIndex.logName) && message.contains("at byte \(history.ends[2])"))
            #expect(message.contains("\(history.recordCount - 3) valid records") && message.contains("fails its CRC32 check"))
        }
    }

    @Test func garbledHeaderRefusesToOpen() async throws {
        try await withHistory { history, directory in
            for offset in 0..<WriteAheadLog.magic.count {
                var log = history.log
                log[offset] ^= 0x5A
                try Data(log).write(to: URL(fileURLWithPath: directory.path + "/" + LocalIndex.logName))
                // Not a log of ours (or another version): opening must not guess, and must leave the file alone.
                #expect(throws: IndexError.self) { try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path)) }
                #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + LocalIndex.logName)) == Data(log))
            }
        }
    }
}
