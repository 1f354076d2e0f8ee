import Domain
import Foundation
import Tensor
import Tokenizers

/// A BERT-family sentence model of the manifest (architecture "bert"), resolved (`BERTSpec.resolve`) and
/// loaded: the text encoder of a text space.
public struct LoadedBERT: LoadableModel {
    public let spec: BERTSpec
    public let tokenizer: WordPieceTokenizer
    public let embedder: TextEmbedder

    public static let modalities: [Modality] = [.text]
    /// A sentence-transformers (or plain BERT) folder: `BERTSpec.resolve` reads these.
    public static let checkpointLayout: CheckpointLayout? = CheckpointLayout(
        modelTypes: ["bert"], required: ["config.json", "model.safetensors"],
        optional: ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                   "sentence_bert_config.json", "config_sentence_transformers.json", "*_Pooling/config.json"])
    public var id: String { spec.id }
    public var isDefault: Bool { spec.isDefault }
    public var fingerprint: String { spec.fingerprint }
    public var summary: String {
        "\(spec.id) (\(spec.architecture.rawValue), \(spec.dimensions)-d, max \(spec.maxTokens) tokens, "
            + "\(spec.pooling.rawValue) pooling\(spec.normalize ? ", normalized" : ""), space \(spec.fingerprint))"
    }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedBERT {
        try load(BERTSpec.resolve(entry, folder: folder), precision: options.precision)
    }

    /// Loads tokenizer, config and weights of a resolved BERT-family model.
    public static func load(_ spec: BERTSpec, precision: Precision = .float32) throws(ModelRegistry.SkipReason) -> LoadedBERT {
        guard spec.pooling != .instruction else {
            throw .inconsistent(field: "pooling", detail: "instruction pooling is a request option, not a checkpoint's pooling")
        }
        let tokenizer: WordPieceTokenizer
        do { tokenizer = try WordPieceTokenizer.load(directory: spec.tokenizerDirectory) } catch {
            throw .loadFailed("tokenizer: \(error)")
        }
        if spec.lowercasesInput && !tokenizer.normalizer.lowercase {
            throw .inconsistent(field: "sentence_bert_config.json",
                                detail: "do_lower_case with a cased tokenizer is not supported")
        }
        let config = try ModelRegistry.loading { try BERTConfig.load(from: spec.config) }
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw .inconsistent(field: "vocabulary",
                                detail: "tokenizer has \(tokenizer.vocabularySize) ids, config.json vocab_size is \(config.vocabSize)")
        }
        let model = try ModelRegistry.loading { try BERT(config: config, weights: try SafeTensors(path: spec.weights.path), precision: precision) }
        let embedder = TextEmbedder(tokenizer: tokenizer, model: model, defaultPooling: spec.pooling,
                                    normalize: spec.normalize, maxTokens: spec.maxTokens)
        return LoadedBERT(spec: spec, tokenizer: tokenizer, embedder: embedder)
    }
}
