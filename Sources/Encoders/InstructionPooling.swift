import Foundation
import Tensor

/// Instruction-conditioned pooling (docs/ARCHITECTURE.md, "Instruction pooling"): one item, many token vectors in the joint space (CLIP patch
/// tokens, the concept vectors of a classified image's regions, the sentences of a transcript), and a task
/// instruction embedded in the same space. The instruction is the query of one attention step over the tokens,
///     a_i = softmax_i( cos(q, t_i) / τ + log π_i ),      u = normalize( Σ_i a_i t_i ),
/// where π is the tokens' prior (how much of the item each token is: a class probability; uniform when the
/// tokens are parts of equal standing), and the result blends the attended vector with the item's own:
///     v = normalize( (1 − w) · native + w · u ).
/// w = 0 gives back the native vector; w = 1 keeps only what the instruction picked out.
public struct InstructionPooling: Sendable, Equatable, Codable {
    /// Blend weight w of the attended vector, in 0...1.
    public var weight: Float
    /// Softmax temperature τ on cosine similarities (smaller: sharper selection).
    public var temperature: Float

    public init(weight: Float, temperature: Float) {
        self.weight = min(max(weight, 0), 1)
        self.temperature = temperature > 0 ? temperature : 1
    }

    /// The attention weights a over `tokens` (each any length-d vector; compared by cosine) for `query`.
    public func attention(query: [Float], tokens: [[Float]], prior: [Float]? = nil) -> [Float] {
        let q = Ops.l2Normalized(query)
        let logits = tokens.enumerated().map { i, token -> Float in
            let bias = prior.map { Float(Foundation.log(Double(max($0[i], 1e-12)))) } ?? 0
            return Self.dot(q, Ops.l2Normalized(token)) / temperature + bias
        }
        let peak = logits.max() ?? 0
        let exps = logits.map { Float(Foundation.exp(Double($0 - peak))) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// Defaults where the manifest gives none, per kind of token set (docs/ARCHITECTURE.md, "Instruction pooling"), chosen by measurement on
    /// the two-object photos and two-topic recordings of Tests/Fixtures (models/README.md, "Instruction
    /// pooling"): the concept vectors of an image's views (ConSE) and the sentences of a transcript.
    public static let conceptDefault = InstructionPooling(weight: 0.7, temperature: 0.05)
    public static let sentenceDefault = InstructionPooling(weight: 0.7, temperature: 0.05)
    /// CLIP patch tokens: not measured (no CLIP weights ship on PyPI); patch-text cosines are small and close
    /// together, hence the sharper softmax.
    public static let patchDefault = InstructionPooling(weight: 0.5, temperature: 0.02)

    /// v: the native vector conditioned on the instruction. Without tokens, the native vector (normalised).
    public func pool(native: [Float], tokens: [[Float]], prior: [Float]? = nil, query: [Float]) -> [Float] {
        guard !tokens.isEmpty else { return Ops.l2Normalized(native) }
        let attended = Ops.l2Normalized(Self.weightedSum(tokens.map(Ops.l2Normalized), weights: attention(query: query, tokens: tokens, prior: prior)))
        let blended = zip(Ops.l2Normalized(native), attended).map { (1 - weight) * $0 + weight * $1 }
        return Ops.l2Normalized(blended)
    }

    /// MEAN pooling of a token set: the plain mean of the (normalised) tokens, normalised.
    public static func mean(_ tokens: [[Float]]) -> [Float] {
        Ops.l2Normalized(weightedSum(tokens.map(Ops.l2Normalized), weights: [Float](repeating: 1, count: tokens.count)))
    }

    /// Weighted pooling of alternatives (an N-best list): Σ weightᵢ · normalised vᵢ, normalised.
    public static func weighted(_ vectors: [[Float]], weights: [Double]) -> [Float] {
        Ops.l2Normalized(weightedSum(vectors.map(Ops.l2Normalized), weights: weights.map(Float.init)))
    }

    static func weightedSum(_ vectors: [[Float]], weights: [Float]) -> [Float] {
        var sum = [Float](repeating: 0, count: vectors.first?.count ?? 0)
        for (v, a) in zip(vectors, weights) {
            for j in sum.indices { sum[j] += a * v[j] }
        }
        return sum
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
