import Encoders
import Media
import Tensor
import Tokenizers

/// SigLIP in a `JointSpace`: texts canonicalised as SiglipTokenizer does (`SigLIPText`), SentencePiece with "</s>",
/// padded to 64; images squashed to the model's size (bicubic, no crop; streaming, so memory stays bounded by the
/// source) and normalised with mean = std = 0.5 (or the manifest's "image"); the patch tokens through the MAP head
/// are the token set. A text-image cosine c is a match probability σ(c·exp(logit_scale) + logit_bias)
/// (`SigLIP.matchProbability`; both values are in Info and in the server log's load line).
extension LoadedSigLIP: JointModel {
    static var architecture: ModelManifest.Architecture { .siglip }
    var dimensions: Int { model.config.projectionSize }
    var contextLength: Int { model.config.contextLength }
    var specialTokens: Int { 1 }
    var logitScale: Float { model.logitScale }
    var logitBias: Float? { model.logitBias }

    func tokenize(_ text: String) -> (ids: [Int32], tokens: Int, truncated: Bool) {
        let canonical = SigLIPText.canonical(text)
        let tokenized = tokenizer.encode(canonical)
        return (tokenized.ids, min(tokenizer.tokenCount(canonical), contextLength), tokenized.truncated)
    }

    func encodeText(_ ids: [Int32]) throws -> [Float] { try model.encodeTexts([ids])[0] }

    func pixels(_ image: RGBImage) throws -> Tensor {
        let squashed = ImageResize.bicubicStreaming(image, width: imageSize, height: imageSize)
        let normalization = ImagePreprocessing(resize: imageSize, crop: imageSize, mean: mean, std: std)
        return try Tensor(shape: [1, imageSize, imageSize, 3], values: normalization.normalized(squashed))
    }

    func encodeImage(_ pixels: Tensor) throws -> (embedding: [Float], patches: [[Float]]) { try model.encodeImages(pixels)[0] }
}
