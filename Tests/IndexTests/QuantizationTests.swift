import Testing
@testable import Index
import Tensor

/// int8 and binary storage against exact float32 search, on clustered unit vectors (closer to real embeddings
/// than uniform noise). The thresholds sit below the measured recall with a margin; bench/search reports it
/// on larger sets.
@Suite struct QuantizationTests {
    static let d = 128
    static let vectors = clusteredVectors(count: 20_000, dimensions: d, clusters: 200, spread: 1.0, seed: 11)
    static let queries = clusteredVectors(count: 50, dimensions: d, clusters: 200, spread: 1.0, seed: 12)

    func index(storage: Storage, rerankFactor: Int = 10) async throws -> LocalIndex {
        var configuration = LocalIndex.Configuration(dataDirectory: nil)
        configuration.binaryRerankFactor = rerankFactor
        let index = try LocalIndex(configuration)
        _ = try await index.createCollection(spec(dimensions: Self.d, storage: storage))
        try await index.upsert(Self.vectors.enumerated().map { IndexItem(id: "\($0)", vector: $1) }, into: "c")
        return index
    }

    /// Mean recall@10 against float32 exact search (itself checked against the naive reference in SearchTests).
    func recallAt10(_ index: LocalIndex, truth: LocalIndex) async throws -> Double {
        var total = 0.0
        for query in Self.queries {
            let hits = try await index.search([SearchQuery(vector: query, topK: 10)], in: "c")[0]
            let exact = try await truth.search([SearchQuery(vector: query, topK: 10)], in: "c")[0]
            total += recall(hits.map(\.id), exact.map(\.id))
        }
        return total / Double(Self.queries.count)
    }

    @Test func int8RecallIsNearExact() async throws {
        let value = try await recallAt10(index(storage: .int8), truth: index(storage: .float32))
        #expect(value >= 0.95, "int8 recall@10 = \(value)")
    }

    @Test func binaryWithRerankRecall() async throws {
        let truth = try await index(storage: .float32)
        // This synthetic set is hard for sign bits (the 10 nearest differ from ~100 cluster mates only by
        // noise); bench/search measures real sentence embeddings. More candidates must raise recall, and
        // with every row a candidate the re-rank is plain int8 search.
        let narrow = try await recallAt10(index(storage: .binary, rerankFactor: 10), truth: truth)
        let wide = try await recallAt10(index(storage: .binary, rerankFactor: 100), truth: truth)
        let all = try await recallAt10(index(storage: .binary, rerankFactor: 2_000), truth: truth)
        let int8 = try await recallAt10(index(storage: .int8), truth: truth)
        #expect(narrow >= 0.25 && wide >= 0.7 && wide >= narrow, "binary recall@10: \(narrow) (100 candidates), \(wide) (1000)")
        #expect(all == int8)
    }

    @Test func int8CodesRoundTrip() {
        let (codes, scale) = Ops.int8Quantized([0.5, -1, 0.25, 0])
        #expect(codes == [64, -127, 32, 0])
        #expect(abs(scale - 1 / 127) < 1e-7)
        let rows = Int8Rows(dimensions: 4)
        rows.append([0.5, -1, 0.25, 0])
        let decoded = rows.vector(0)
        for (a, b) in zip(decoded, [0.5, -1, 0.25, 0] as [Float]) { #expect(abs(a - b) < 0.005) }
    }

    @Test func signBitsAndHamming() {
        let rows = BinaryRows(dimensions: 70)
        var a = [Float](repeating: -1, count: 70)
        a[0] = 1
        a[69] = 1
        rows.append(a)
        rows.append([Float](repeating: 1, count: 70))
        let query = BinaryRows.signBits([Float](repeating: -1, count: 70))
        var distances = [UInt16](repeating: 0, count: 2)
        distances.withUnsafeMutableBufferPointer { rows.hamming(query, rows: 0..<2, into: $0.baseAddress!) }
        #expect(distances == [2, 70])
    }

    @Test func binaryRespectsFiltersInThePrefilter() async throws {
        // Only rows with keep=1 may be hits: the Hamming stage must not fill its candidates with others.
        let d = 32
        let vectors = clusteredVectors(count: 5_000, dimensions: d, clusters: 10, spread: 1.0, seed: 21)
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil))
        _ = try await index.createCollection(spec(dimensions: d, storage: .binary))
        try await index.upsert(vectors.enumerated().map {
            IndexItem(id: "\($0)", vector: $1, metadata: ["keep": .number($0 % 100 == 0 ? 1 : 0)])
        }, into: "c")
        let hits = try await index.search([SearchQuery(vector: vectors[1], topK: 10, filter: .equals(key: "keep", value: .number(1)))], in: "c")[0]
        #expect(hits.count == 10)
        #expect(hits.allSatisfy { Int($0.id)! % 100 == 0 })
    }
}
