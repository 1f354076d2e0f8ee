import Domain
import Encoders
import Foundation
import Media
import Tensor

/// What a jointly trained text-image checkpoint (CLIP, SigLIP) gives its space: its tokenisation, its two towers
/// and its image preprocessing (CLIPSpace.swift, SigLIPSpace.swift).
protocol JointModel: Sendable {
    static var architecture: ModelManifest.Architecture { get }
    var id: String { get }
    var fingerprint: String { get }
    var instructionPooling: InstructionPooling { get }
    var dimensions: Int { get }
    var contextLength: Int { get }
    /// The learned temperature, and the bias where the checkpoint has one (SigLIP).
    var logitScale: Float { get }
    var logitBias: Float? { get }
    /// Special tokens every text gets (an instruction's budget leaves them out).
    var specialTokens: Int { get }
    /// The text tower's input ids, the text's tokens (special ones included, padding not), and whether it was cut.
    func tokenize(_ text: String) -> (ids: [Int32], tokens: Int, truncated: Bool)
    /// The text embedding in the joint space (not normalised).
    func encodeText(_ ids: [Int32]) throws -> [Float]
    /// The decoded image as the vision tower's input, [1, S, S, 3].
    func pixels(_ image: RGBImage) throws -> Tensor
    /// The image embedding and its patch tokens in the joint space (not normalised).
    func encodeImage(_ pixels: Tensor) throws -> (embedding: [Float], patches: [[Float]])
}

/// A joint text-image checkpoint served as its own space (docs/ARCHITECTURE.md, "Spaces"): texts through the text
/// tower, images through the vision tower, both L2-normalised (compared by cosine). The space's fingerprint is the
/// checkpoint's. A free-text instruction becomes a prefix ("<instruction>: <text>"); there are no named prompts.
/// For images, an instruction pools the patch tokens with the instruction's text embedding as the query
/// (`InstructionPooling`).
struct JointSpace<Model: JointModel>: EmbeddingSpace {
    let model: Model
    let maxImagePixels: Int
    let description: SpaceDescription

    init(model: Model, limits: MediaLimits) {
        self.model = model
        maxImagePixels = limits.maxImagePixels
        var description = SpaceDescription(
            id: model.id, architecture: Model.architecture.rawValue, modalities: [.text, .image], dimensions: model.dimensions,
            maxTokens: model.contextLength, space: model.fingerprint, defaultPooling: .cls, promptNames: [],
            isDefault: false, takesInstructions: true)
        description.logitScale = model.logitScale
        description.logitBias = model.logitBias
        self.description = description
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
                        let prefix = model.tokenize("\(instruction): ")
                        guard !prefix.truncated, prefix.tokens - model.specialTokens <= limit else {
                            throw SpaceError.instructionTooLong(
                                model: model.id, tokens: prefix.truncated ? nil : prefix.tokens - model.specialTokens, limit: limit)
                        }
                        prompted = "\(instruction): \(text)"
                    }
                    let tokenized = model.tokenize(prompted)
                    if tokenized.truncated && options.truncation == .none {
                        throw SpaceError.invalidInput("text is over \(model.id)'s \(model.contextLength) tokens; set truncate to END to cut it")
                    }
                    let vector = try model.encodeText(tokenized.ids)
                    return EmbeddedVector(values: Ops.l2Normalized(vector), tokens: tokenized.tokens, truncated: tokenized.truncated)
                case .image(let media):
                    let image = try ImageDecoder.decode(media.data, maxPixels: maxImagePixels)
                    let out = try model.encodeImage(try model.pixels(image))
                    switch TokenPooling(options) {
                    case .native: return EmbeddedVector(values: Ops.l2Normalized(out.embedding))
                    case .mean: return EmbeddedVector(values: InstructionPooling.mean(out.patches))
                    case .instruction(let instruction):
                        let query = try model.encodeText(model.tokenize(instruction).ids)
                        return EmbeddedVector(values: model.instructionPooling.pool(native: out.embedding, tokens: out.patches, query: query))
                    }
                case .audio:
                    throw SpaceError.modalityNotSupported(model: model.id, modality: "audio")
                }
            }
        }
    }
}
