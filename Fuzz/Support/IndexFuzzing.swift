import Foundation
import Index

/// What the log and snapshot targets share: a real index written by our own code (the seeds), and the
/// reads a server does on whatever an index opened from fuzzed files holds.
public enum IndexFuzzing {
    /// Writes a small durable index into `directory` through `LocalIndex` (every log operation and storage
    /// kind); `snapshot` also folds it into a snapshot. Returns nothing: the files are the result.
    public static func writeSampleIndex(in directory: String, snapshot: Bool) {
        try? FileManager.default.removeItem(atPath: directory)
        FuzzSupport.wait {
            do {
                let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: directory))
                for (name, storage) in [("f", Storage.float32), ("q", .int8), ("b", .binary), ("gone", .float32)] {
                    _ = try await index.createCollection(CollectionSpec(
                        name: name, model: "", dimensions: 4, modelDimensions: 0, metric: .cosine, storage: storage,
                        space: CollectionSpec.rawSpace(dimensions: 4), createdUnixMs: 1_700_000_000_000))
                }
                for name in ["f", "q", "b"] {
                    let items = (0..<3).map { i in
                        IndexItem(id: "id-\(i)", vector: [1, Float(i), -0.5, 0.25], metadata: ["n": .number(Double(i)), "s": .string("v\(i)")], modality: .text)
                    }
                    try await index.upsert(items, into: name)
                }
                _ = try await index.delete(ids: ["id-1"], from: "f")
                try await index.deleteCollection("gone")
                if snapshot { try index.snapshot() }
                index.close()
            } catch {
                fatalError("fuzz harness: cannot write the sample index: \(error)")
            }
        }
    }

    /// The bytes of `file` (LocalIndex.logName or .snapshotName) of a fresh sample index, for the seeds.
    public static func sampleFile(_ file: String, snapshot: Bool) -> [UInt8] {
        let directory = FuzzSupport.scratch + "/seed"
        writeSampleIndex(in: directory, snapshot: snapshot)
        guard let bytes = FileManager.default.contents(atPath: directory + "/" + file) else {
            fatalError("fuzz harness: the sample index wrote no \(file)")
        }
        return Array(bytes)
    }

    /// Lists, searches and gets every collection of `index`, as clients would after a restart.
    public static func exercise(_ index: LocalIndex) {
        FuzzSupport.wait {
            for info in await index.listCollections() where info.spec.dimensions <= 4_096 {
                let query = SearchQuery(vector: [Float](repeating: 1, count: info.spec.dimensions), topK: 5, includeVectors: true)
                let hits = (try? await index.search([query], in: info.spec.name)) ?? []
                let ids = hits.flatMap { $0.map(\.id) }
                _ = try? await index.get(ids: ids + ["missing"], from: info.spec.name, includeVectors: true)
            }
        }
    }
}
