import Domain
import Foundation
import Tensor

/// Manifest -> loaded models. Given the models folder, reads `manifest.json` and loads every entry through its
/// architecture's `LoadableModel` conformance (registered in `ModelManifest.Architecture.loader`); an entry
/// whose folder is missing or broken is reported as skipped with the reason, so one bad folder never stops the
/// server. Only a bad manifest throws.
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
        /// The encoder or tokenizer refused the files.
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
    /// In manifest order.
    public let models: [any LoadableModel]
    public let skipped: [Skipped]
    /// What loading each model (by id) took.
    public private(set) var loadCosts: [String: LoadCost] = [:]

    /// The wall time of one model's load and how much the process's resident memory grew meanwhile (weights are
    /// memory-mapped: pages a forward touches later are not counted, so this is a lower bound of its memory).
    public struct LoadCost: Sendable, Equatable {
        public var seconds: Double
        public var residentBytes: Int

        public init(seconds: Double, residentBytes: Int) {
            self.seconds = seconds
            self.residentBytes = residentBytes
        }

        var summary: String {
            String(format: "in %.2f s, %+.0f MB resident", seconds, Double(residentBytes) / 1_048_576)
        }
    }

    /// Reads `<modelsDirectory>/manifest.json` (or `manifest`) and loads every entry with `options`. Throws only
    /// for a bad manifest; per-model problems land in `skipped`.
    /// `checkpoints` are folders outside the manifest (Hub snapshots), served after its models; each one's
    /// architecture is read from its config.json (`Architecture(checkpointConfig:)`).
    public static func load(modelsDirectory: URL, manifest manifestURL: URL? = nil, checkpoints: [Checkpoint] = [],
                            options: LoadOptions = LoadOptions()) throws(ManifestError) -> ModelRegistry {
        let manifest = try ModelManifest.load(from: manifestURL ?? modelsDirectory.appendingPathComponent("manifest.json"))
        var models: [any LoadableModel] = []
        var skipped: [Skipped] = []
        var costs: [String: LoadCost] = [:]
        func load(_ entry: @autoclosure () throws(SkipReason) -> ModelManifest.Entry, id: String, folder: URL) {
            do {
                let entry = try entry()
                try requireFiles(entry.files.map(\.path), in: folder)
                let (started, resident) = (ContinuousClock.now, residentMemoryBytes())
                models.append(try entry.architecture.loader.load(entry, folder: folder, options: options))
                let elapsed = (ContinuousClock.now - started).components
                costs[id] = LoadCost(seconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18,
                                     residentBytes: residentMemoryBytes() - resident)
            } catch {
                skipped.append(Skipped(id: id, reason: error))
            }
        }
        for entry in manifest.models {
            load(entry, id: entry.id, folder: modelsDirectory.appendingPathComponent(entry.id))
        }
        for checkpoint in checkpoints {
            load(try checkpoint.entry(taken: manifest.models.map(\.id)), id: checkpoint.id, folder: checkpoint.folder)
        }
        var registry = ModelRegistry(manifest: manifest, models: models, skipped: skipped)
        registry.loadCosts = costs
        return registry
    }

    /// A Hugging Face checkpoint folder (a Hub snapshot) served beside the manifest's models, under `id`; its
    /// architecture is read from its config.json's `model_type`.
    public struct Checkpoint: Sendable, Equatable {
        public var id: String
        public var folder: URL
        /// The weights' sha256 when known (the Hub's LFS etag): the space's fingerprint is taken over it.
        public var weightsSHA256: String?

        public init(id: String, folder: URL, weightsSHA256: String? = nil) {
            self.id = id
            self.folder = folder
            self.weightsSHA256 = weightsSHA256
        }

        /// Which of a repository's files (`available`) the architecture of `config` (its config.json) reads. The
        /// error names the unsupported model type and the supported ones, or the missing file.
        public static func files(config: Data, available: [String]) throws(SkipReason) -> [String] {
            let architecture = try ModelManifest.Architecture(checkpointConfig: config)
            return try architecture.loader.checkpointLayout?.files(from: available) ?? []
        }

        func entry(taken: [String]) throws(SkipReason) -> ModelManifest.Entry {
            guard !taken.contains(id) else {
                throw .inconsistent(field: "id", detail: "'\(id)' is already a model of the manifest")
            }
            let config: Data
            do {
                config = try Data(contentsOf: folder.appendingPathComponent("config.json"))
            } catch {
                throw .fileMissing(path: folder.appendingPathComponent("config.json").path)
            }
            let architecture = try ModelManifest.Architecture(checkpointConfig: config)
            return ModelManifest.Entry(id: id, architecture: architecture,
                                       files: [ModelManifest.File(path: "model.safetensors", sha256: weightsSHA256)])
        }
    }

    public init(manifest: ModelManifest, models: [any LoadableModel], skipped: [Skipped]) {
        self.manifest = manifest
        self.models = models
        self.skipped = skipped
    }

    /// The loaded models of one architecture, in manifest order.
    public func loaded<Model: LoadableModel>(_ type: Model.Type) -> [Model] {
        models.compactMap { $0 as? Model }
    }

    /// The default model of an architecture: the loaded one marked `is_default`, else the first loaded.
    public func defaultModel<Model: LoadableModel>(_ type: Model.Type) -> Model? {
        let candidates = loaded(type)
        return candidates.first { $0.isDefault } ?? candidates.first
    }

    /// One line per model, for the server log.
    public var summary: [String] {
        models.map { model in "loaded \(model.summary)" + (loadCosts[model.id].map { " \($0.summary)" } ?? "") }
            + skipped.map { "skipped \($0)" }
    }
}

/// The process's resident set in bytes (/proc/self/statm); 0 where it cannot be read.
func residentMemoryBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
