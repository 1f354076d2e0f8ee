import Foundation
import Testing
import TestSupport
@testable import Index

@Suite struct DurabilityTests {
    func open(_ directory: TemporaryDirectory) throws -> LocalIndex {
        try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
    }

    func items(_ range: Range<Int>, dimensions d: Int = 4, seed: UInt64 = 1) -> [IndexItem] {
        var random = SeededRandom(seed: seed)
        return range.map { i in
            IndexItem(id: "id-\(i)", vector: normalized(random.vector(d)), metadata: ["n": .number(Double(i)), "s": .string("v\(i)")], modality: .text)
        }
    }

    /// Everything observable about a collection: ids, metadata, modality and stored vectors.
    func contents(_ index: LocalIndex, _ collection: String, ids: [String]) async throws -> [StoredItem] {
        try await index.get(ids: ids, from: collection, includeVectors: true).items
    }

    @Test func logReplayRestoresEveryWrite() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let ids = (0..<30).map { "id-\($0)" }
        let before: [StoredItem]
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("a", dimensions: 4))
            _ = try await index.createCollection(spec("b", dimensions: 4, storage: .int8))
            _ = try await index.createCollection(spec("gone", dimensions: 2))
            try await index.upsert(items(0..<20), into: "a")
            try await index.upsert(items(10..<30, seed: 2), into: "a")
            _ = try await index.delete(ids: ["id-3", "id-4"], from: "a")
            _ = try await index.delete(matching: .range(key: "n", NumericRange(atLeast: 25)), from: "a")
            try await index.upsert(items(0..<5), into: "b")
            try await index.deleteCollection("gone")
            before = try await contents(index, "a", ids: ids)
            index.close()
        }
        let reopened = try open(directory)
        #expect(reopened.recovery.replayedRecords == 9 && reopened.recovery.truncationReason == nil)
        #expect(await reopened.listCollections().map(\.spec.name) == ["a", "b"])
        #expect(try await contents(reopened, "a", ids: ids) == before)
        #expect(before.count == 30 - 2 - 5)
        #expect(try await reopened.collection("b").count == 5)
        #expect(try await reopened.collection("b").spec.storage == .int8)
    }

    @Test(arguments: [1, 5, 13])
    func tornLastRecordIsCutOff(cut: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let logPath = directory.path + "/" + LocalIndex.logName
        let sizeBeforeLast: Int
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("a", dimensions: 4))
            try await index.upsert(items(0..<10), into: "a")
            sizeBeforeLast = try fileSize(logPath)
            try await index.upsert(items(10..<20), into: "a")
            index.close()
        }
        // A crash in the middle of the last append: only part of it reached the disk.
        let full = try fileSize(logPath)
        try truncate(logPath, to: full - cut)
        let reopened = try open(directory)
        #expect(reopened.recovery.truncationReason != nil)
        #expect(reopened.recovery.truncatedBytes == full - cut - sizeBeforeLast)
        #expect(try fileSize(logPath) == sizeBeforeLast)
        #expect(try await reopened.collection("a").count == 10)
        // The log goes on from the cut: new writes land after the last good record and replay.
        try await reopened.upsert(items(20..<21), into: "a")
        let again = try open2(directory, after: reopened)
        #expect(try await again.collection("a").count == 11)
        #expect(again.recovery.truncationReason == nil)
    }

    @Test func corruptLastRecordIsCutOff() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let logPath = directory.path + "/" + LocalIndex.logName
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("a", dimensions: 4))
            try await index.upsert(items(0..<10), into: "a")
            try await index.upsert(items(10..<20), into: "a")
            index.close()
        }
        // Flip one byte inside the last record's payload: its CRC no longer matches.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: logPath))
        let size = try fileSize(logPath)
        try handle.seek(toOffset: UInt64(size - 3))
        try handle.write(contentsOf: Data([0xFF ^ 0x5A]))
        try handle.close()
        let reopened = try open(directory)
        #expect(reopened.recovery.truncationReason?.contains("CRC32") == true)
        #expect(try await reopened.collection("a").count == 10)
    }

    @Test func snapshotThenLogReplay() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let ids = (0..<40).map { "id-\($0)" }
        var expected: [String: [StoredItem]] = [:]
        do {
            let index = try open(directory)
            for storage in Storage.allCases {
                _ = try await index.createCollection(spec(storage.rawValue, dimensions: 70, storage: storage))
                try await index.upsert(items(0..<30, dimensions: 70), into: storage.rawValue)
            }
            #expect(try index.snapshot())
            #expect(index.logBytes == WriteAheadLog.magic.count)
            #expect(try index.snapshot() == false)
            // After the snapshot: more writes that only the log holds.
            for storage in Storage.allCases {
                try await index.upsert(items(25..<40, dimensions: 70, seed: 9), into: storage.rawValue)
                _ = try await index.delete(ids: ["id-0"], from: storage.rawValue)
                expected[storage.rawValue] = try await contents(index, storage.rawValue, ids: ids)
            }
            index.close()
        }
        let reopened = try open(directory)
        #expect(reopened.recovery.replayedRecords == 6)
        for storage in Storage.allCases {
            #expect(try await contents(reopened, storage.rawValue, ids: ids) == expected[storage.rawValue])
            let query = items(0..<30, dimensions: 70)[7].vector
            #expect(try await reopened.search([SearchQuery(vector: query, topK: 1)], in: storage.rawValue)[0].first?.id == "id-7")
        }
    }

    @Test func logRecordsAlreadyInTheSnapshotAreSkipped() async throws {
        // A crash between the snapshot's rename and the log's truncation leaves records the snapshot already
        // holds; replaying them again must not apply them twice (create would fail, deletes would differ).
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let logPath = directory.path + "/" + LocalIndex.logName
        let savedLog: Data
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("a", dimensions: 4))
            try await index.upsert(items(0..<10), into: "a")
            savedLog = try Data(contentsOf: URL(fileURLWithPath: logPath))
            try index.snapshot()
            index.close()
        }
        try savedLog.write(to: URL(fileURLWithPath: logPath))
        let reopened = try open(directory)
        #expect(reopened.recovery.replayedRecords == 0)
        #expect(try await reopened.collection("a").count == 10)
        // And new writes get sequence numbers after the snapshot's.
        try await reopened.upsert(items(10..<12), into: "a")
        let again = try open2(directory, after: reopened)
        #expect(try await again.collection("a").count == 12)
    }

    @Test func corruptSnapshotRefusesToOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        do {
            let index = try open(directory)
            _ = try await index.createCollection(spec("a", dimensions: 4))
            try await index.upsert(items(0..<10), into: "a")
            try index.snapshot()
            index.close()
        }
        let path = directory.path + "/" + LocalIndex.snapshotName
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: IndexError.self) { _ = try open(directory) }
    }

    @Test func oneServerPerDirectory() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let first = try open(directory)
        #expect(throws: IndexError.self) { _ = try open(directory) }
        first.close()
        _ = try open(directory)
    }

    @Test func inMemoryWritesNothing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil))
        _ = try await index.createCollection(spec("a", dimensions: 4))
        try await index.upsert(items(0..<10), into: "a")
        #expect(try index.snapshot() == false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    /// A write the file system has no room for is `outOfSpace` (Service answers RESOURCE_EXHAUSTED), not a
    /// storage failure like any other: /dev/full fails every write with ENOSPC.
    @Test func writeToAFullDeviceIsOutOfSpace() throws {
        let file = try DataFile(path: "/dev/full", mode: .readWrite)
        let error = #expect(throws: IndexError.self) {
            try [UInt8](repeating: 1, count: 64).withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: 0) }
        }
        #expect(error == .outOfSpace(operation: "write", path: "/dev/full", reason: "No space left on device"))
    }

    @Test func crcMatchesKnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Slicing-by-8 and the byte loop agree across lengths that split differently.
        let bytes = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var incremental = CRC32()
        bytes.withUnsafeBytes { raw in
            incremental.update(UnsafeRawBufferPointer(rebasing: raw[0..<333]))
            incremental.update(UnsafeRawBufferPointer(rebasing: raw[333...]))
        }
        #expect(incremental.value == CRC32.checksum(bytes))
    }

    // MARK: Helpers

    /// Reopens after closing `previous` (which releases the directory).
    func open2(_ directory: TemporaryDirectory, after previous: LocalIndex) throws -> LocalIndex {
        previous.close()
        return try open(directory)
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    func truncate(_ path: String, to size: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }
}
