import Foundation
import Domain
import TestSupport
@testable import Index

func normalized(_ v: [Float]) -> [Float] {
    let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
    return v.map { $0 / norm }
}

func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// Vectors in clusters around random centres, like real embeddings (which are far from uniform on the
/// sphere); unit length.
func clusteredVectors(count: Int, dimensions d: Int, clusters: Int, spread: Float, seed: UInt64) -> [[Float]] {
    var random = SeededRandom(seed: seed)
    let centres = (0..<clusters).map { _ in normalized(random.vector(d)) }
    return (0..<count).map { _ in
        let centre = centres[random.int(0..<clusters)]
        return normalized(zip(centre, random.vector(d)).map { $0 + spread * $1 / Float(d).squareRoot() })
    }
}

/// The naive reference: every item scored with a scalar loop, filtered, sorted; ids of the best k.
func naiveTopK(
    _ query: [Float], items: [(id: String, vector: [Float], metadata: Metadata, modality: Modality)], k: Int,
    admit: (Metadata, Modality) -> Bool = { _, _ in true }, minScore: Float = -.infinity
) -> [(id: String, score: Float)] {
    var scored: [(id: String, score: Float)] = []
    for item in items where admit(item.metadata, item.modality) {
        let score = dot(query, item.vector)
        if score >= minScore { scored.append((id: item.id, score: score)) }
    }
    scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    return Array(scored.prefix(k))
}

func recall(_ found: [String], _ truth: [String]) -> Double {
    guard !truth.isEmpty else { return 1 }
    return Double(Set(found).intersection(truth).count) / Double(truth.count)
}

func spec(
    _ name: String = "c", dimensions: Int, storage: Storage = .float32, metric: Metric = .cosine, model: String = "",
    modelDimensions: Int = 0, space: String? = nil
) -> CollectionSpec {
    CollectionSpec(
        name: name, model: model, dimensions: dimensions, modelDimensions: modelDimensions, metric: metric,
        storage: storage, space: space ?? CollectionSpec.rawSpace(dimensions: dimensions), createdUnixMs: 1_700_000_000_000)
}

/// A fresh temporary directory, removed by `cleanup`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "rosetta-index-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
