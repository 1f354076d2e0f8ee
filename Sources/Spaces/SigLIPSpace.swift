import Domain
import Encoders
import Foundation
import Media
import Tensor
import Tokenizers

/// A SigLIP checkpoint served as its own space (docs/ARCHITECTURE.md, "Spaces"): texts canonicalised as SigLIP's
/// tokenizer does (`SigLIPText`), tokenised (SentencePiece, padded to 64) and through the text tower; images
/// squashed to the model's size (bicubic, no crop, streaming so memory stays bounded by the source) and through the
/// vision tower; both L2-normalised. A cosine c between a text and an image is a match probability
/// σ(c·exp(logit_scale) + logit_bias) (`SigLIP.matchProbability`; the values are in the server log's load line).
/// A free-text instruction becomes a prefix ("<instruction>: <text>", the colon then canonicalised away); for
/// images it pools the patch tokens in the joint space with the instruction's embedding as the query.
struct SigLIPSpace: EmbeddingSpace {
    let siglip: LoadedSigLIP
    let normalization: ImagePreprocessing
    let maxImagePixels: Int
    let description: SpaceDescription

    init(siglip: LoadedSigLIP, limits: MediaLimits) {
        self.siglip = siglip
        normalization = ImagePreprocessing(resize: siglip.imageSize, crop: siglip.imageSize, mean: siglip.mean, std: siglip.std)
        maxImagePixels = limits.maxImagePixels
        description = SpaceDescription(
            id: siglip.id, architecture: ModelManifest.Architecture.siglip.rawValue, modalities: LoadedSigLIP.modalities,
            dimensions: siglip.model.config.projectionSize, maxTokens: siglip.model.config.contextLength, space: siglip.fingerprint,
            defaultPooling: .cls, promptNames: [], isDefault: false, takesInstructions: true)
    }

    func tokens(_ text: String) -> TokenizedText { siglip.tokenizer.encode(SigLIPText.canonical(text)) }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        inputs.enumerated().map { i, input in
            Result { () throws -> EmbeddedVector in
                guard !abandoned(i) else { throw SpaceError.abandoned }
                switch input {
                case .text(let text):
                    var prompted = text
                    if case .text(let instruction) = options.instruction {
                        let limit = description.maxInstructionTokens
                        let count = siglip.tokenizer.tokenCount(SigLIPText.canonical(instruction))
                        guard count - 1 <= limit else {
                            throw SpaceError.instructionTooLong(model: siglip.id, tokens: count - 1, limit: limit)
                        }
                        prompted = "\(instruction): \(text)"
                    }
                    let tokenized = tokens(prompted)
                    if tokenized.truncated && options.truncation == .none {
                        throw SpaceError.invalidInput("text is over SigLIP's \(siglip.model.config.contextLength) tokens; set truncate to END to cut it")
                    }
                    let vector = try siglip.model.encodeTexts([tokenized.ids])[0]
                    return EmbeddedVector(values: Ops.l2Normalized(vector), tokens: siglip.tokenizer.tokenCount(SigLIPText.canonical(prompted)),
                                          truncated: tokenized.truncated)
                case .image(let media):
                    let image = try ImageDecoder.decode(media.data, maxPixels: maxImagePixels)
                    let side = siglip.imageSize
                    let squashed = ImageResize.bicubicStreaming(image, width: side, height: side)
                    let pixels = try Tensor(shape: [1, side, side, 3], values: normalization.normalized(squashed))
                    let out = try siglip.model.encodeImages(pixels)[0]
                    switch TokenPooling(options) {
                    case .native: return EmbeddedVector(values: Ops.l2Normalized(out.embedding))
                    case .mean: return EmbeddedVector(values: InstructionPooling.mean(out.patches))
                    case .instruction(let instruction):
                        let query = try siglip.model.encodeTexts([tokens(instruction).ids])[0]
                        return EmbeddedVector(values: siglip.instructionPooling.pool(native: out.embedding, tokens: out.patches, query: query))
                    }
                case .audio:
                    throw SpaceError.modalityNotSupported(model: siglip.id, modality: "audio")
                }
            }
        }
    }
}
