import Domain
import Tensor
import Tokenizers

/// What `TextEmbedder` needs from a tokenizer: ids WITH the special tokens ([CLS] ... [SEP]), cut to `maxTokens`.
public protocol TextTokenizer: Sendable {
    func encode(_ text: String, maxTokens: Int, truncation: Truncation) throws -> TokenizedText
}

extension WordPieceTokenizer: TextTokenizer {}

/// One text's embedding.
public struct TextEmbedding: Sendable {
    /// The pooled (and, if asked, L2-normalised) vector, d floats.
    public var vector: [Float]
    /// Tokens the model saw, special tokens included.
    public var tokenCount: Int
    /// True when the text was cut to fit `maxTokens`.
    public var truncated: Bool
    /// The per-token hidden states [tokenCount, d] (not normalised), when requested — the token set that
    /// instruction-attention pooling attends over.
    public var tokenVectors: Tensor?
}

/// Text → vector: optional prompt prefix, tokenizer, BERT forward in length-sorted chunks, pooling, optional L2
/// normalisation. Immutable and thread-safe; concurrent calls each take their own scratch.
public final class TextEmbedder: Sendable {
    public let tokenizer: any TextTokenizer
    public let model: BERT
    /// The model's own pooling (sentence-transformers `1_Pooling`: mean or cls), used when a call passes none
    /// or `instruction` (a text's instruction is its prefix).
    public let defaultPooling: Pooling
    /// Whether vectors are L2-normalised (sentence-transformers `Normalize` module present).
    public let normalize: Bool
    /// Token limit per text, special tokens included (sentence-transformers `max_seq_length`).
    public let maxTokens: Int
    /// Most sequences per forward pass; a larger request is split (bounds scratch memory).
    public let maxBatch: Int

    public init(tokenizer: any TextTokenizer, model: BERT, defaultPooling: Pooling = .mean, normalize: Bool = true,
                maxTokens: Int? = nil, maxBatch: Int = 64) {
        self.tokenizer = tokenizer
        self.model = model
        self.defaultPooling = defaultPooling
        self.normalize = normalize
        self.maxTokens = min(maxTokens ?? model.config.maxPositionEmbeddings, model.config.maxPositionEmbeddings)
        self.maxBatch = max(1, maxBatch)
    }

    /// Embeds `texts` (each prefixed with `prefix`, e.g. "query: ") and returns one embedding per text, in order.
    /// Throws the first failure; `embedEach` lets each text fail alone.
    public func embed(_ texts: [String], prefix: String? = nil, pooling: Pooling? = nil,
                      truncation: Truncation = .end, includeTokenVectors: Bool = false) throws(EncoderError) -> [TextEmbedding] {
        try embedEach(texts, prefix: prefix, pooling: pooling, truncation: truncation,
                      includeTokenVectors: includeTokenVectors).map { outcome throws(EncoderError) in try outcome.get() }
    }

    /// One outcome per text, in order: a text the tokenizer refuses (too long with `.none` truncation) fails
    /// alone, and the others are embedded together. `stop(i)` is asked for every text of a chunk before the
    /// chunk's forward: a text whose caller is gone ends with `EncoderError.stopped` instead.
    public func embedEach(_ texts: [String], prefix: String? = nil, pooling: Pooling? = nil, truncation: Truncation = .end,
                          includeTokenVectors: Bool = false, stop: (Int) -> Bool = { _ in false }) -> [Result<TextEmbedding, EncoderError>] {
        var results = [Result<TextEmbedding, EncoderError>?](repeating: nil, count: texts.count)
        var encoded: [(index: Int, text: TokenizedText)] = []
        encoded.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            do {
                encoded.append((index, try tokenizer.encode((prefix ?? "") + text, maxTokens: maxTokens, truncation: truncation)))
            } catch {
                results[index] = .failure(.tokenizer(index: index, message: String(describing: error)))
            }
        }
        // Sort by length so each chunk holds similar lengths: the packed forward spends no FLOP on padding, but
        // the per-chunk scratch (maxLen² attention scores, Σ tokens rows) stays tight and chunks stay balanced.
        encoded.sort { $0.text.ids.count < $1.text.ids.count }
        let pool = pooling.flatMap { $0 == .instruction ? nil : $0 } ?? defaultPooling
        for start in stride(from: 0, to: encoded.count, by: maxBatch) {
            var chunk = encoded[start..<min(start + maxBatch, encoded.count)]
            for item in chunk where stop(item.index) { results[item.index] = .failure(.stopped) }
            chunk.removeAll { results[$0.index] != nil }
            guard !chunk.isEmpty else { continue }
            do {
                let hidden = try model.forward(batch: chunk.map(\.text.ids))
                for ((index, text), tokens) in zip(chunk, hidden) {
                    let pooled = try pool.pool(tokens)
                    results[index] = .success(TextEmbedding(
                        vector: normalize ? Ops.l2Normalized(pooled) : pooled, tokenCount: text.ids.count,
                        truncated: text.truncated, tokenVectors: includeTokenVectors ? tokens : nil))
                }
            } catch {
                for (index, _) in chunk { results[index] = .failure(error) }
            }
        }
        return results.compactMap { $0 }
    }
}
