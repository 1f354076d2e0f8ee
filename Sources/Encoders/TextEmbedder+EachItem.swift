import Tensor
import Tokenizers

extension TextEmbedder {
    /// Like `embed`, but a text the tokenizer refuses (too long with `.none` truncation) fails alone: one
    /// outcome per text, in order; the others are embedded in the same length-sorted forward passes.
    public func embedEach(_ texts: [String], pooling: Pooling? = nil,
                          truncation: Truncation = .end) -> [Result<TextEmbedding, EncoderError>] {
        var outcomes = [Result<TextEmbedding, EncoderError>?](repeating: nil, count: texts.count)
        var accepted: [Int] = []
        for (index, text) in texts.enumerated() {
            do {
                _ = try tokenizer.encode(text, maxTokens: maxTokens, truncation: truncation)
                accepted.append(index)
            } catch {
                outcomes[index] = .failure(.tokenizer(index: index, message: String(describing: error)))
            }
        }
        do {
            let embeddings = try embed(accepted.map { texts[$0] }, pooling: pooling, truncation: truncation)
            for (index, embedding) in zip(accepted, embeddings) { outcomes[index] = .success(embedding) }
        } catch {
            for index in accepted { outcomes[index] = .failure(error) }
        }
        return outcomes.map { $0 ?? .failure(.tokenizer(index: -1, message: "not embedded")) }
    }
}
