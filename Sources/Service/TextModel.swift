/// The seam between the RPC handlers and the encoders: what Service needs of a text model.
/// The server adapts the loaded encoders to it; tests use in-process stand-ins.
public protocol TextModel: Sendable {
    var description: ModelDescription { get }

    /// Embeds `texts`, one outcome per text and in order, so that one bad text fails alone.
    /// CPU-bound and synchronous: callers run it on the inference queue, never on the cooperative pool.
    /// Vectors are returned as the model's own pipeline produces them (normalised when the model has a
    /// Normalize step, as sentence-transformers models do); the handlers then shape them as asked.
    func embed(_ texts: [String], options: TextEmbeddingOptions) -> [Result<TextVector, any Error>]
}

/// What a loaded model is, as Info reports it.
public struct ModelDescription: Sendable, Equatable {
    public enum Modality: Sendable, Equatable { case text, image, audio }
    public enum Pooling: Sendable, Equatable { case mean, cls, instruction }

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

    public init(
        id: String, architecture: String, modalities: [Modality], dimensions: Int, maxTokens: Int,
        space: String, defaultPooling: Pooling, promptNames: [String], isDefault: Bool
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
    }
}

public struct TextEmbeddingOptions: Sendable, Equatable {
    public enum Instruction: Sendable, Equatable {
        /// A prompt named in the model's manifest ("query", "passage").
        case prompt(name: String)
        /// Free text, applied through the model's instruction template.
        case text(String)
    }
    public enum Truncation: Sendable, Equatable { case end, start, none }

    public var instruction: Instruction?
    /// nil: the model's default pooling.
    public var pooling: ModelDescription.Pooling?
    public var truncation: Truncation

    public init(instruction: Instruction? = nil, pooling: ModelDescription.Pooling? = nil, truncation: Truncation = .end) {
        self.instruction = instruction
        self.pooling = pooling
        self.truncation = truncation
    }
}

public struct TextVector: Sendable, Equatable {
    public var values: [Float]
    /// Tokens fed to the model, special tokens included.
    public var tokens: Int
    /// The text was longer than the model's maximum and was cut.
    public var truncated: Bool

    public init(values: [Float], tokens: Int, truncated: Bool) {
        self.values = values
        self.tokens = tokens
        self.truncated = truncated
    }
}
