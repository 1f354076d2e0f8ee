import Domain
import Foundation

/// One embedding space, entered from every modality it accepts: the seam between Service and the models
/// (text through its text encoder; images and audio through their bridges into the same space). `SpaceLoader`
/// builds the spaces of a models folder; Service's tests use in-process stand-ins.
public protocol EmbeddingSpace: Sendable {
    var description: SpaceDescription { get }

    /// Embeds `inputs`, one outcome per input and in order, so that one bad input fails alone. Only inputs of
    /// `description.modalities` are passed in. CPU-bound and synchronous: it runs on the batch scheduler's
    /// worker thread, never on the cooperative pool, and one call may carry the inputs of several requests
    /// with equal options (Service's `BatchScheduler`), so an outcome must depend on its own input only.
    /// Vectors are returned as the model's own pipeline produces them (normalised when the model has a
    /// Normalize step, as sentence-transformers models do); the caller then shapes them as asked.
    ///
    /// Long work asks `abandoned` between its steps (audio windows and decoding steps, image batches, text
    /// chunks) and ends an input whose caller is gone with `SpaceError.abandoned`, so that a cancelled call or
    /// one past its deadline frees the worker within one step.
    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>]
}

extension EmbeddingSpace {
    /// Embeds `inputs` that are wanted to the end.
    public func embed(_ inputs: [SpaceInput], options: EmbeddingOptions) -> [Result<EmbeddedVector, any Error>] {
        embed(inputs, options: options, abandoned: .never)
    }
}

/// Whether the caller of input `i` of a call is gone (its request was cancelled or passed its deadline). Asked
/// on the thread that computes, between steps; it must be cheap (a lock and a lookup).
public struct Abandonment: Sendable {
    private let isAbandoned: @Sendable (Int) -> Bool

    public init(_ isAbandoned: @escaping @Sendable (Int) -> Bool) {
        self.isAbandoned = isAbandoned
    }

    public static let never = Abandonment { _ in false }

    public func callAsFunction(_ input: Int) -> Bool { isAbandoned(input) }

    /// The same question for a subset of the inputs: input `i` of the subset is input `positions[i]` here.
    public func subset(_ positions: [Int]) -> Abandonment {
        Abandonment { [isAbandoned] in isAbandoned(positions[$0]) }
    }
}

/// One thing to embed, decoded from the request but not yet from its file format.
public enum SpaceInput: Sendable, Equatable {
    case text(String)
    case image(MediaBytes)
    case audio(MediaBytes)

    public var modality: Modality {
        switch self {
        case .text: .text
        case .image: .image
        case .audio: .audio
        }
    }
}

/// Encoded media as the client sent it: file bytes plus an optional MIME type (sniffed when empty).
public struct MediaBytes: Sendable, Equatable {
    public var data: Data
    public var mimeType: String

    public init(data: Data, mimeType: String = "") {
        self.data = data
        self.mimeType = mimeType
    }
}

/// What a space is, as Info reports it (a space is named by its model id).
public struct SpaceDescription: Sendable, Equatable {
    public var id: String
    public var architecture: String
    public var modalities: [Modality]
    public var dimensions: Int
    /// Longest input in tokens, special tokens included.
    public var maxTokens: Int
    /// Fingerprint of the embedding space the vectors live in.
    public var space: String
    public var defaultPooling: Pooling
    public var promptNames: [String]
    public var isDefault: Bool
    /// Most tokens a free-text instruction may take (half of `maxTokens` besides two special tokens, so that the
    /// input keeps at least as much room); 0 where the space takes no instruction.
    public var maxInstructionTokens: Int
    /// Jointly trained text-image models: the learned temperature and (SigLIP) bias; nil for other models.
    public var logitScale: Float?
    public var logitBias: Float?
    /// What loading the space's model took (`ModelRegistry.LoadCost`): wall seconds and resident growth in
    /// bytes; 0 for spaces not loaded from a models folder.
    public var loadSeconds: Double = 0
    public var loadResidentBytes: Int = 0

    public init(
        id: String, architecture: String, modalities: [Modality], dimensions: Int, maxTokens: Int,
        space: String, defaultPooling: Pooling, promptNames: [String], isDefault: Bool, takesInstructions: Bool
    ) {
        self.id = id
        self.architecture = architecture
        self.modalities = modalities
        self.dimensions = dimensions
        self.maxTokens = maxTokens
        self.space = space
        self.defaultPooling = defaultPooling
        self.promptNames = promptNames
        self.isDefault = isDefault
        maxInstructionTokens = takesInstructions ? Self.instructionLimit(maxTokens: maxTokens) : 0
    }

    /// `maxInstructionTokens` of a space that takes instructions.
    static func instructionLimit(maxTokens: Int) -> Int { max(0, (maxTokens - 2) / 2) }
}

/// How to embed. Hashable: the batch scheduler merges only requests whose options are equal.
public struct EmbeddingOptions: Sendable, Hashable {
    public enum Instruction: Sendable, Hashable {
        /// A prompt named in the model's manifest ("query", "passage").
        case prompt(name: String)
        /// Free text, applied through the model's instruction template.
        case text(String)
    }

    public var instruction: Instruction?
    /// nil: the model's default pooling.
    public var pooling: Pooling?
    public var truncation: Truncation
    /// Also make each embedded input's `Preview` (`embedWithPreviews`), for an index that keeps them.
    public var previews: Bool

    public init(instruction: Instruction? = nil, pooling: Pooling? = nil, truncation: Truncation = .end,
                previews: Bool = false) {
        self.instruction = instruction
        self.pooling = pooling
        self.truncation = truncation
        self.previews = previews
    }
}

public struct EmbeddedVector: Sendable, Equatable {
    public var values: [Float]
    /// Text tokens fed to the text encoder, special tokens included (0 when none were).
    public var tokens: Int
    /// The input was longer than the model's maximum and was cut.
    public var truncated: Bool
    /// Audio bridged through speech recognition: the transcript that was embedded, and the recogniser's
    /// probability that the audio holds no speech. nil for other inputs.
    public var transcript: String?
    public var noSpeechProbability: Float?
    /// Set by `embedWithPreviews` when the options ask for previews.
    public var preview: Preview?

    public init(values: [Float], tokens: Int = 0, truncated: Bool = false, transcript: String? = nil,
                noSpeechProbability: Float? = nil, preview: Preview? = nil) {
        self.values = values
        self.tokens = tokens
        self.truncated = truncated
        self.transcript = transcript
        self.noSpeechProbability = noSpeechProbability
        self.preview = preview
    }
}
