import Foundation
import Testing
import TestSupport
@testable import Index

/// Inputs `make fuzz` found (Fuzz/README.md), kept as the files the index opened: each must be refused as
/// corrupt, with a message, and never crash or exhaust memory.
@Suite struct FuzzRegressionTests {
    static let fixtures = RepositoryPaths.fixtures.appendingPathComponent("fuzz")

    /// Opens a data directory holding `fixture` under `name`; returns why it was refused.
    func refusal(_ fixture: String, as name: String) throws -> IndexError? {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        try FileManager.default.copyItem(
            at: Self.fixtures.appendingPathComponent(fixture), to: URL(fileURLWithPath: directory.path + "/" + name))
        do {
            let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
            index.close()
            return nil
        } catch {
            return error
        }
    }

    /// fuzz-wal: a record (with a correct CRC) whose metadata claims 4 billion entries; reading it reserved
    /// a dictionary of that capacity (40 GB) before reading one entry.
    @Test func logRecordClaimingHugeMetadataIsCorrupt() throws {
        guard case .corrupt(_, let reason) = try refusal("huge-metadata-count.wal", as: LocalIndex.logName) else {
            Issue.record("the log was not refused as corrupt")
            return
        }
        #expect(reason.contains("metadata entries claimed"))
    }

    /// fuzz-wal: a record (with a correct CRC) whose LSN is 2^64 - 1; the next LSN, one more, trapped on
    /// overflow when the index opened.
    @Test func logRecordWithTheLargestLSNIsCorrupt() throws {
        guard case .corrupt(_, let reason) = try refusal("largest-lsn.wal", as: LocalIndex.logName) else {
            Issue.record("the log was not refused as corrupt")
            return
        }
        #expect(reason.contains("log sequence number 18446744073709551615, the largest there is"))
    }

    /// fuzz-snapshot: a collection claiming 12,884,902,283 rows in a 629-byte file; reading it reserved a
    /// metadata dictionary of 160 GB (and a row count past Int.max or rows x dimensions past it trapped).
    @Test func snapshotClaimingHugeMetadataIsCorrupt() throws {
        guard case .corrupt(_, let reason) = try refusal("huge-metadata-count.snapshot", as: LocalIndex.snapshotName) else {
            Issue.record("the snapshot was not refused as corrupt")
            return
        }
        #expect(reason.contains("claims 12884902283 rows"))
    }

    /// fuzz-snapshot: binary codes with bits set past the collection's dimensions (a CRC-valid file); the
    /// first search counted Hamming distances over d and indexed past its histogram (a trap).
    @Test func snapshotWithBinaryPaddingBitsIsCorrupt() throws {
        guard case .corrupt(_, let reason) = try refusal("binary-padding-bits.snapshot", as: LocalIndex.snapshotName) else {
            Issue.record("the snapshot was not refused as corrupt")
            return
        }
        #expect(reason.contains("bits set past dimension"))
    }
}
