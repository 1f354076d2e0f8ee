import Spaces
extension SpaceInput {
    /// What this input costs a forward pass, in text tokens, estimated before tokenizing (the tokenizer runs
    /// inside the model, on the worker thread; the scheduler must decide before). It sizes batches against
    /// `BatchSettings.maxTokens` and groups inputs of similar length (`BatchQueue`).
    ///
    /// - Text: one token per 3 UTF-8 bytes (of the text and of a free-text instruction, which is prefixed to
    ///   it) plus the two special tokens, at most the model's `maxTokens` (longer texts are cut, or refused).
    ///   WordPiece spends about 4-5 bytes per token on English and about 3 on CJK (one token per 3-byte
    ///   character), so the estimate is high for English and right for CJK: a batch may come out smaller than
    ///   the budget, never much larger.
    /// - Image and audio: `maxTokens` each, a full-length text. A ViT-B/32 image (~4.4 GFLOP) costs about
    ///   what 200 MiniLM tokens do, EfficientNet-Lite0 (~0.4 GFLOP) less; a Whisper transcript is at most one
    ///   full text. Decoded media are also the largest buffers of a forward, so they are not made cheap.
    func estimatedTokens(maxTokens: Int, options: EmbeddingOptions) -> Int {
        let cap = max(1, maxTokens)
        switch self {
        case .text(let text):
            var bytes = text.utf8.count
            if case .text(let instruction) = options.instruction { bytes += instruction.utf8.count }
            return min(cap, 2 + (bytes + 2) / 3)
        case .image, .audio:
            return cap
        }
    }
}
