import Domain
import Encoders
import Foundation
import Media
import Tensor

/// A CLIP checkpoint served as its own space (docs/ARCHITECTURE.md, "Spaces"): texts through the text tower,
/// images through the vision tower, both projected into the joint space and L2-normalised (CLIP compares them
/// by cosine). The space's fingerprint is the checkpoint's. A free-text instruction becomes a prefix
/// ("<instruction>: <text>"); CLIP has no named prompts. For images, an instruction pools the projected patch
/// tokens with the instruction's text embedding as the query (`InstructionPooling`).
struct CLIPSpace: EmbeddingSpace {
    let clip: LoadedCLIP
    let preprocessing: ImagePreprocessing
    let maxImagePixels: Int
    let description: SpaceDescription

    init(clip: LoadedCLIP, limits: MediaLimits) {
        self.clip = clip
        preprocessing = ImagePreprocessing(resize: clip.resize, crop: clip.crop, mean: clip.mean, std: clip.std)
        maxImagePixels = limits.maxImagePixels
        description = SpaceDescription(
            id: clip.id, architecture: ModelManifest.Architecture.clip.rawValue, modalities: LoadedCLIP.modalities, dimensions: clip.model.config.projectionDim,
            maxTokens: clip.model.config.contextLength, space: clip.fingerprint, defaultPooling: .cls, promptNames: [],
            isDefault: false, takesInstructions: true)
    }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        inputs.enumerated().map { i, input in
            Result { () throws -> EmbeddedVector in
                guard !abandoned(i) else { throw SpaceError.abandoned }
                switch input {
                case .text(let text):
                    var prompted = text
                    if case .text(let instruction) = options.instruction {
                        let limit = description.maxInstructionTokens
                        let (ids, cut) = clip.tokenizer.encode("\(instruction): ")
                        guard !cut, ids.count - 2 <= limit else {
                            throw SpaceError.instructionTooLong(model: clip.id, tokens: cut ? nil : ids.count - 2, limit: limit)
                        }
                        prompted = "\(instruction): \(text)"
                    }
                    let (ids, truncated) = clip.tokenizer.encode(prompted)
                    if truncated && options.truncation == .none {
                        throw SpaceError.invalidInput("text is over CLIP's \(clip.model.config.contextLength) tokens; set truncate to END to cut it")
                    }
                    let vector = try clip.model.encodeTexts([ids])[0]
                    return EmbeddedVector(values: Ops.l2Normalized(vector), tokens: ids.count, truncated: truncated)
                case .image(let media):
                    let image = try ImageDecoder.decode(media.data, maxPixels: maxImagePixels)
                    let side = clip.crop
                    let pixels = try Tensor(shape: [1, side, side, 3], values: preprocessing(image))
                    let out = try clip.model.encodeImages(pixels)[0]
                    switch TokenPooling(options) {
                    case .native: return EmbeddedVector(values: Ops.l2Normalized(out.embedding))
                    case .mean: return EmbeddedVector(values: InstructionPooling.mean(out.patches))
                    case .instruction(let instruction):
                        let query = try clip.model.encodeTexts([clip.tokenizer.encode(instruction).ids])[0]
                        return EmbeddedVector(values: clip.instructionPooling.pool(native: out.embedding, tokens: out.patches, query: query))
                    }
                case .audio:
                    throw SpaceError.modalityNotSupported(model: clip.id, modality: "audio")
                }
            }
        }
    }
}
