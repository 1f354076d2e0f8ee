import Domain
import Tensor

extension Pooling {
    /// The pooled vector of one sequence's hidden states `tokens` [seqLen, d], padding already removed (as
    /// `BERT.forward` returns them), so the plain mean over rows is the attention-mask-aware mean of
    /// sentence-transformers' `Pooling` (Σ mask·h / Σ mask, special tokens included). `cls` is the first
    /// token's vector ([CLS]), as bge and other CLS-pooled models. `instruction` is not a way to pool one
    /// sequence: the caller resolves it to the model's own pooling first (see `Pooling`).
    public func pool(_ tokens: Tensor) throws(EncoderError) -> [Float] {
        do throws(TensorError) {
            switch self {
            case .mean: return try Ops.meanRows(tokens)
            case .cls: return try tokens.rows(0..<1).toArray()
            case .instruction: break
            }
        } catch {
            throw .tensor(error)
        }
        throw .poolingNotApplicable(rawValue)
    }
}
