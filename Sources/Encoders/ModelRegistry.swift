import Foundation
import Tensor
import Tokenizers

/// Manifest -> loaded encoders. Given the models folder, reads `manifest.json`, resolves each entry against
/// `models/<id>/` (`resolve`, no weights touched) and loads the ones that resolve; the others are reported as
/// skipped with the reason, so one bad folder never stops the server.
///
/// Resolution of a BERT-family sentence model (the layout of a Hugging Face sentence-transformers folder):
/// - required: config.json, model.safetensors, tokenizer.json or vocab.txt; every file the manifest lists;
/// - dimensions: config.json `hidden_size` (the manifest value, if given, must agree);
/// - max tokens: manifest, else sentence_bert_config.json `max_seq_length`, else tokenizer_config.json
///   `model_max_length`, else config.json `max_position_embeddings` (never above the position table);
/// - pooling: manifest, else the pooling config of the Pooling module in modules.json (default 1_Pooling/),
///   else mean; normalize: manifest, else whether modules.json lists a Normalize module;
/// - prompts: manifest, else config_sentence_transformers.json `prompts`;
/// - modules that change the vector (Dense, ...) are refused by name, and so is a config.json `model_type`
///   other than `bert` (RoBERTa, XLM-R, DistilBERT need other code).
///
/// Fingerprint: FNV-1a 64 of "rosetta-space-v1", id, weights identity and version, as
/// "<id>:<16 hex>". Weights identity is the manifest sha256; for a hand-copied folder without one it is the
/// safetensors file size plus its header (tensor names, shapes, offsets) — cheap, and changes when the
/// checkpoint does.
public struct ModelRegistry: Sendable {
    public struct Skipped: Sendable, Equatable, CustomStringConvertible {
        public var id: String
        public var reason: SkipReason
        public var description: String { "\(id): \(reason)" }
    }

    public enum SkipReason: Error, Sendable, Equatable, CustomStringConvertible {
        case folderMissing(path: String)
        case fileMissing(path: String)
        case architectureNotSupported(String)
        /// The manifest and the folder disagree, or the folder's config is unusable.
        case inconsistent(field: String, detail: String)
        /// Resolution succeeded but the encoder or tokenizer refused the files.
        case loadFailed(String)

        public var description: String {
            switch self {
            case let .folderMissing(path): "folder \(path) is missing (run models/fetch, or copy the model there)"
            case let .fileMissing(path): "missing file \(path)"
            case let .architectureNotSupported(name): "architecture \(name) is not supported by this build yet"
            case let .inconsistent(field, detail): "\(field): \(detail)"
            case let .loadFailed(detail): "load failed: \(detail)"
            }
        }
    }

    public let manifest: ModelManifest
    public let loaded: [LoadedModel]
    public let skipped: [Skipped]

    /// Reads `<modelsDirectory>/manifest.json` (or `manifest`), resolves and loads every entry, its dense layers in
    /// `precision`. Throws only for a bad manifest; per-model problems land in `skipped`.
    public static func load(modelsDirectory: URL, manifest manifestURL: URL? = nil,
                            precision: Precision = .float32) throws(ManifestError) -> ModelRegistry {
        let manifest = try ModelManifest.load(from: manifestURL ?? modelsDirectory.appendingPathComponent("manifest.json"))
        var loaded: [LoadedModel] = []
        var skipped: [Skipped] = []
        // Image models are resolved and loaded by ModelRegistry+Vision (loadImageClassifiers, loadCLIPModels),
        // audio models by ModelRegistry+Audio (loadSpeechModels, loadSoundEffectsModels).
        for entry in manifest.models where entry.architecture == .bert {
            do {
                let spec = try resolve(entry, folder: modelsDirectory.appendingPathComponent(entry.id))
                loaded.append(try LoadedModel.load(spec, precision: precision))
            } catch {
                skipped.append(Skipped(id: entry.id, reason: error))
            }
        }
        return ModelRegistry(manifest: manifest, loaded: loaded, skipped: skipped)
    }

    public init(manifest: ModelManifest, loaded: [LoadedModel], skipped: [Skipped]) {
        self.manifest = manifest
        self.loaded = loaded
        self.skipped = skipped
    }

    /// The default model of a modality: the loaded one marked `is_default`, else the first loaded.
    public func defaultModel(for modality: ModelManifest.Modality) -> LoadedModel? {
        let candidates = loaded.filter { $0.spec.architecture.modalities.contains(modality) }
        return candidates.first { $0.spec.isDefault } ?? candidates.first
    }

    /// One line per model, for the server log.
    public var summary: [String] {
        loaded.map { m in
            let s = m.spec
            return "loaded \(s.id) (\(s.architecture.rawValue), \(s.dimensions)-d, max \(s.maxTokens) tokens, "
                + "\(s.pooling.rawValue) pooling\(s.normalize ? ", normalized" : ""), space \(s.fingerprint))"
        } + skipped.map { "skipped \($0)" }
    }
}

/// A resolved model with its encoder loaded: what the server serves.
public struct LoadedModel: Sendable {
    public let spec: ModelSpec
    public let tokenizer: WordPieceTokenizer
    public let embedder: TextEmbedder

    /// Loads tokenizer, config and weights of a resolved BERT-family model.
    public static func load(_ spec: ModelSpec, precision: Precision = .float32) throws(ModelRegistry.SkipReason) -> LoadedModel {
        let pooling: Pooling
        switch spec.pooling {
        case .mean: pooling = .mean
        case .cls: pooling = .cls
        default: throw .inconsistent(field: "pooling", detail: "\(spec.pooling.rawValue) pooling is not implemented")
        }
        let tokenizer: WordPieceTokenizer
        do { tokenizer = try WordPieceTokenizer.load(directory: spec.tokenizerDirectory) } catch {
            throw .loadFailed("tokenizer: \(error)")
        }
        if spec.lowercasesInput && !tokenizer.normalizer.lowercase {
            throw .inconsistent(field: "sentence_bert_config.json",
                                detail: "do_lower_case with a cased tokenizer is not supported")
        }
        let model: BERT
        do {
            let config = try BERTConfig.load(from: spec.config)
            guard tokenizer.vocabularySize <= config.vocabSize else {
                throw ModelRegistry.SkipReason.inconsistent(
                    field: "vocabulary",
                    detail: "tokenizer has \(tokenizer.vocabularySize) ids, config.json vocab_size is \(config.vocabSize)")
            }
            let weights = try SafeTensors(path: spec.weights.path)
            model = try BERT(config: config, weights: weights, precision: precision)
        } catch let reason as ModelRegistry.SkipReason {
            throw reason
        } catch {
            throw .loadFailed("\(error)")
        }
        let embedder = TextEmbedder(tokenizer: tokenizer, model: model, defaultPooling: pooling,
                                    normalize: spec.normalize, maxTokens: spec.maxTokens)
        return LoadedModel(spec: spec, tokenizer: tokenizer, embedder: embedder)
    }
}
