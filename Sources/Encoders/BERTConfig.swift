import Foundation

/// The fields of a Hugging Face `config.json` that define a BERT encoder (`BertConfig`).
/// Only what the forward pass needs; dropout and initialiser fields are ignored.
public struct BERTConfig: Sendable, Equatable, Decodable {
    public var vocabSize: Int
    /// dModel.
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Width of the feed-forward block (dFF).
    public var intermediateSize: Int
    /// Must be "gelu" (exact erf form); other activations are refused at load.
    public var hiddenAct: String
    public var layerNormEps: Float
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    /// Must be "absolute" when present.
    public var positionEmbeddingType: String

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case positionEmbeddingType = "position_embedding_type"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                hiddenAct: String = "gelu", layerNormEps: Float = 1e-12, maxPositionEmbeddings: Int = 512,
                typeVocabSize: Int = 2, positionEmbeddingType: String = "absolute") {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.positionEmbeddingType = positionEmbeddingType
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            vocabSize: try c.decode(Int.self, forKey: .vocabSize),
            hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
            numHiddenLayers: try c.decode(Int.self, forKey: .numHiddenLayers),
            numAttentionHeads: try c.decode(Int.self, forKey: .numAttentionHeads),
            intermediateSize: try c.decode(Int.self, forKey: .intermediateSize),
            hiddenAct: try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu",
            layerNormEps: try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12,
            maxPositionEmbeddings: try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512,
            typeVocabSize: try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2,
            positionEmbeddingType: try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute")
    }

    /// Reads and validates `config.json`.
    public static func load(from url: URL) throws(EncoderError) -> BERTConfig {
        let config: BERTConfig
        do {
            config = try JSONDecoder().decode(BERTConfig.self, from: try Data(contentsOf: url))
        } catch {
            throw .invalidConfig(file: url.path, detail: "cannot read BERT config: \(error)")
        }
        try config.validate(file: url.path)
        return config
    }

    /// Checks the architecture is one `BERT` implements.
    public func validate(file: String = "config") throws(EncoderError) {
        guard hiddenAct == "gelu" else {
            throw .invalidConfig(file: file, detail: "hidden_act '\(hiddenAct)' unsupported (only exact 'gelu')")
        }
        guard positionEmbeddingType == "absolute" else {
            throw .invalidConfig(file: file, detail: "position_embedding_type '\(positionEmbeddingType)' unsupported")
        }
        guard hiddenSize > 0, numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw .invalidConfig(file: file, detail: "hidden_size \(hiddenSize) not divisible by \(numAttentionHeads) heads")
        }
        guard hiddenSize % 16 == 0 else {
            throw .invalidConfig(file: file, detail: "hidden_size \(hiddenSize) must be a multiple of 16 (vector width)")
        }
        guard numHiddenLayers > 0, intermediateSize > 0, vocabSize > 0, maxPositionEmbeddings > 0, typeVocabSize > 0 else {
            throw .invalidConfig(file: file, detail: "sizes must be positive")
        }
    }
}
