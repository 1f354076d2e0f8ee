import Tensor

/// How token vectors [seqLen, d] become one sequence vector.
///
/// Inputs are the hidden states of ONE sequence with padding already removed (as `BERT.forward` returns them),
/// so the plain mean over rows is the attention-mask-aware mean of sentence-transformers' `Pooling`
/// (`pooling_mode_mean_tokens`: Σ mask·h / Σ mask).
public enum Pooling: String, Sendable, Equatable, CaseIterable {
    /// Mean over the sequence's tokens (special tokens included, as sentence-transformers does).
    case mean
    /// The first token's vector ([CLS]), as bge and other CLS-pooled models.
    case cls

    /// The pooled vector of `tokens` [seqLen, d].
    public func pool(_ tokens: Tensor) throws(EncoderError) -> [Float] {
        do {
            switch self {
            case .mean: return try Ops.meanRows(tokens)
            case .cls: return try tokens.rows(0..<1).toArray()
            }
        } catch {
            throw .tensor(error)
        }
    }

    /// Reads sentence-transformers' `1_Pooling/config.json` flags (mean or CLS; nil for anything else).
    public init?(sentenceTransformersConfig flags: [String: Bool]) {
        if flags["pooling_mode_mean_tokens"] == true { self = .mean }
        else if flags["pooling_mode_cls_token"] == true { self = .cls }
        else { return nil }
    }
}
