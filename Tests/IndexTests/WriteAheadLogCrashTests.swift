import Foundation
import Testing
@testable import Index

/// Crash safety of the write-ahead log at every byte. A log written by real writes is cut at each offset (a
/// torn write: the crash came while the tail was on its way to the disk) or has the byte at each offset
/// garbled (a torn or bad sector), and reopening must give exactly the index as it was after the last whole
/// record before the damage: every write acknowledged before it, nothing of a damaged record, and a log that
/// takes new writes where the good records end.
@Suite struct WriteAheadLogCrashTests {
    /// The log of a few writes of every kind, its size after each write (`ends[0]` is the bare header), and
    /// the index's contents after each (`states[k]`: after the first k writes).
    struct History {
        var log: [UInt8] = []
        var ends: [Int] = []
        var states: [Contents] = []

        /// The acknowledged prefix whose records all lie before `offset`.
        func writesBefore(_ offset: Int) -> Int { ends.lastIndex { $0 <= offset } ?? 0 }
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

    /// Writes the history through a real `LocalIndex`, recording the log size and contents after each write.
    func writeHistory(in directory: TemporaryDirectory) async throws -> History {
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
        for write in writes {
            try await write()
            try await record()
        }
        index.close()
        history.log = Array(try Data(contentsOf: URL(fileURLWithPath: logPath)))
        #expect(history.ends.last == history.log.count && Set(history.states.map(\.collections.count)).count > 1)
        return history
    }

    /// Opens `directory` holding `log`, checks it shows `expected` and that the log takes a new write that
    /// replays, and returns the recovery report.
    func reopen(_ directory: TemporaryDirectory, log: [UInt8], expected: Contents, goodBytes: Int) async throws -> LocalIndex.Recovery {
        let logPath = directory.path + "/" + LocalIndex.logName
        try Data(log).write(to: URL(fileURLWithPath: logPath))
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
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
    func withHistory(_ body: (History, TemporaryDirectory) async throws -> Void) async throws {
        let source = TemporaryDirectory()
        defer { source.cleanup() }
        let history = try await writeHistory(in: source)
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

    @Test func garbledByteAtEveryOffsetKeepsExactlyTheRecordsBeforeIt() async throws {
        try await withHistory { history, directory in
            for offset in WriteAheadLog.magic.count..<history.log.count {
                var log = history.log
                log[offset] ^= 0x5A
                let writes = history.writesBefore(offset)
                let recovery = try await reopen(directory, log: log, expected: history.states[writes], goodBytes: history.ends[writes])
                #expect(recovery.truncatedBytes == history.log.count - history.ends[writes], "garbled byte \(offset)")
                #expect(recovery.truncationReason != nil, "garbled byte \(offset)")
            }
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
