import Foundation
import Tensor

/// Convex combination of semantic embeddings (ConSE; Norouzi et al. 2014, "Zero-Shot Learning by Convex
/// Combination of Semantic Embeddings", arXiv:1312.5650): brings any classifier with named classes into any
/// text space. The item's vector is the L2-normalised mix of the text embeddings of its top-T classes,
/// weighted by their softmax probabilities (renormalised over the T):
///     v = normalize( Σ_{t ≤ T} p_t · e_{class_t} ),  p = softmax(logits / temperature).
/// The class embeddings e_c come from the text encoder of the space (prompt-template ensemble: the mean of
/// the normalised embeddings of every template filled with the class name, normalised again — CLIP's
/// zero-shot recipe, Radford et al. 2021). Generic: image classifiers and audio taggers alike.
public struct ConSE: Sendable {
    /// Classes mixed per item (T).
    public var topK: Int
    /// Softmax temperature on the logits (1: the classifier's own probabilities).
    public var temperature: Float

    public init(topK: Int, temperature: Float) {
        self.topK = max(1, topK)
        self.temperature = temperature > 0 ? temperature : 1
    }

    /// One item's top classes and their weights (summing to 1), most probable first.
    public func top(_ logits: [Float]) -> [(index: Int, weight: Float)] {
        let scaled = logits.map { $0 / temperature }
        let peak = scaled.max() ?? 0
        let exp = scaled.map { ($0 - peak).exp }
        let order = exp.indices.sorted { exp[$0] > exp[$1] }.prefix(topK)
        let total = order.reduce(Float(0)) { $0 + exp[$1] }
        return order.map { ($0, exp[$0] / total) }
    }

    /// The item's vector: classEmbeddings is [classes][d] (each normalised).
    public func embed(_ logits: [Float], classEmbeddings: [[Float]]) -> [Float] {
        let d = classEmbeddings.first?.count ?? 0
        var v = [Float](repeating: 0, count: d)
        for (index, weight) in top(logits) {
            let e = classEmbeddings[index]
            for j in 0..<d { v[j] += weight * e[j] }
        }
        return Ops.l2Normalized(v)
    }

    /// The token set of an item seen through several views (the whole image and its regions), for
    /// instruction pooling: every class in the top-T of any view, with its prior, the highest probability any
    /// view gives it, renormalised over the set. A second object that one region shows clearly enters the
    /// set even when the whole image is dominated by the first.
    public func concepts(views: [[Float]]) -> [(index: Int, prior: Float)] {
        var best: [Int: Float] = [:]
        for logits in views {
            for (index, weight) in top(logits) { best[index] = max(best[index] ?? 0, weight) }
        }
        let total = best.values.reduce(0, +)
        return best.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { ($0.key, $0.value / total) }
    }

    /// Template ensemble of one class: normalize(mean_t normalize(e_t)).
    public static func ensemble(_ vectors: [[Float]]) -> [Float] {
        guard let d = vectors.first?.count else { return [] }
        var sum = [Float](repeating: 0, count: d)
        for v in vectors {
            let n = Ops.l2Normalized(v)
            for j in 0..<d { sum[j] += n[j] }
        }
        return Ops.l2Normalized(sum)
    }
}

private extension Float {
    var exp: Float { Float(Foundation.exp(Double(self))) }
}
