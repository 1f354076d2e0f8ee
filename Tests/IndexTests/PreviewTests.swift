import Foundation
import Testing
import TestSupport
import Domain
@testable import Index

/// Previews are kept like metadata: by the log (operation codes 6 and 7), by snapshots (version 2), through
/// deletes (swap-remove) and replaces; only by collections that keep them; and version 1 snapshots still open.
@Suite struct PreviewTests {
    func open(_ directory: TemporaryDirectory) throws -> LocalIndex {
        try LocalIndex(LocalIndex.Configuration(dataDirectory: directory.path))
    }

    func keeping(_ name: String) -> CollectionSpec {
        var kept = spec(name, dimensions: 4)
        kept.keepPreviews = true
        return kept
    }

    let photo = Preview(thumbnailJPEG: [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], thumbnailWidth: 256, thumbnailHeight: 192)
    let clip = Preview(text: "a dog is barking in the yard", durationSeconds: 2.5)

    func items(_ previews: [Preview?]) -> [IndexItem] {
        previews.enumerated().map { i, preview in
            var vector: [Float] = [0, 0, 0, 0]
            vector[i % 4] = 1
            return IndexItem(id: "item-\(i)", vector: vector, metadata: ["n": .number(Double(i))], preview: preview)
        }
    }

    func previews(_ index: LocalIndex, _ collection: String, count: Int) async throws -> [Preview?] {
        let ids = (0..<count).map { "item-\($0)" }
        let (found, missing) = try await index.get(ids: ids, from: collection, includeVectors: false, includePreviews: true)
        #expect(missing.isEmpty)
        return found.map(\.preview)
    }

    @Test func previewsSurviveTheLogTheSnapshotAndDeletes() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let written: [Preview?] = [photo, nil, clip, Preview(text: String(repeating: "word ", count: 100))]
        do {
            let index = try open(directory)
            _ = try await index.createCollection(keeping("kept"))
            try await index.upsert(items(written), into: "kept")
            index.close()
        }
        do {
            let index = try open(directory)
            #expect(try await previews(index, "kept", count: 4) == written)
            #expect(try index.snapshot())
            // After the snapshot, only the log holds these: a delete that moves the last row, and a replace.
            _ = try await index.delete(ids: ["item-0"], from: "kept")
            try await index.upsert([IndexItem(id: "item-1", vector: [0, 1, 0, 0], preview: clip)], into: "kept")
            index.close()
        }
        let index = try open(directory)
        defer { index.close() }
        let (found, missing) = try await index.get(
            ids: ["item-0", "item-1", "item-2", "item-3"], from: "kept", includeVectors: false, includePreviews: true)
        #expect(missing == ["item-0"])
        #expect(found.map(\.preview) == [clip, clip, written[3]])
        #expect(written[3]?.text.unicodeScalars.count == Preview.maxTextCharacters && written[3]?.text.hasSuffix("…") == true)
        let hits = try await index.search([SearchQuery(vector: [0, 0, 1, 0], topK: 1, includePreviews: true)], in: "kept")[0]
        #expect(hits.map(\.id) == ["item-2"] && hits.first?.preview == clip)
        let plain = try await index.search([SearchQuery(vector: [0, 0, 1, 0], topK: 1)], in: "kept")[0]
        #expect(plain.first?.preview == nil)
    }

    @Test func aCollectionThatKeepsNoPreviewsLogsNone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let index = try open(directory)
        _ = try await index.createCollection(spec("plain", dimensions: 4))
        let start = index.logBytes
        try await index.upsert(items([nil]), into: "plain")
        let withoutPreview = index.logBytes - start
        try await index.upsert(items([photo]), into: "plain")
        // The same item again with a preview: the same record, so nothing of the preview reached the log.
        #expect(index.logBytes - start == 2 * withoutPreview)
        #expect(try await previews(index, "plain", count: 1) == [nil])
        index.close()
    }

    @Test func anOversizePreviewIsRefused() async throws {
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil))
        defer { index.close() }
        _ = try await index.createCollection(keeping("kept"))
        let huge = Preview(thumbnailJPEG: [UInt8](repeating: 0, count: Preview.maxBytes + 1))
        await #expect(throws: IndexError.self) { try await index.upsert(items([huge]), into: "kept") }
    }

    /// The fuzz-snapshot seed (Fuzz/Corpus/fuzz-snapshot: a snapshot as version 1 wrote it, after the harness's
    /// selector byte) opens, its collections keeping no previews; the next snapshot is version 2.
    @Test func aVersion1SnapshotOpens() async throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanup() }
        let seed = try Data(contentsOf: RepositoryPaths.root.appendingPathComponent("Fuzz/Corpus/fuzz-snapshot/snapshot-with-crc"))
        #expect(Array(seed.dropFirst().prefix(8)) == Snapshot.magicVersion1)
        try seed.dropFirst().write(to: URL(fileURLWithPath: directory.path + "/" + LocalIndex.snapshotName))
        let index = try open(directory)
        defer { index.close() }
        let collections = await index.listCollections()
        #expect(!collections.isEmpty && collections.allSatisfy { !$0.spec.keepPreviews })
        _ = try await index.createCollection(keeping("kept"))
        #expect(try index.snapshot())
        let written = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + LocalIndex.snapshotName))
        #expect(Array(written.prefix(8)) == Snapshot.magic)
    }
}
