import Foundation

/// How a Hugging Face checkpoint folder of an architecture is recognised and which of its files the loader
/// reads, so that a Hub download fetches those and nothing else (not `pytorch_model.bin`, ONNX or flax copies).
public struct CheckpointLayout: Sendable, Equatable {
    /// config.json `model_type` values this architecture serves.
    public var modelTypes: [String]
    /// Files the loader cannot do without.
    public var required: [String]
    /// Files read when present. A `*` stands for one path component (`*_Pooling/config.json`).
    public var optional: [String]

    public init(modelTypes: [String], required: [String], optional: [String]) {
        self.modelTypes = modelTypes
        self.required = required
        self.optional = optional
    }

    /// The files of `available` (a repository's file list) to fetch; throws naming the first required file missing.
    public func files(from available: [String]) throws(ModelRegistry.SkipReason) -> [String] {
        for name in required where !available.contains(name) {
            let hint = name == "model.safetensors" && available.contains("pytorch_model.bin")
                ? " (the repository has only pytorch_model.bin: convert it to safetensors)" : ""
            throw .fileMissing(path: name + hint)
        }
        return required + available.filter { file in !required.contains(file) && optional.contains { Self.matches(file, $0) } }
    }

    static func matches(_ path: String, _ pattern: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let patternParts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == patternParts.count else { return false }
        return zip(parts, patternParts).allSatisfy { part, pattern in
            guard let star = pattern.firstIndex(of: "*") else { return part == pattern }
            let prefix = pattern[..<star], suffix = pattern[pattern.index(after: star)...]
            return part.count >= prefix.count + suffix.count && part.hasPrefix(prefix) && part.hasSuffix(suffix)
        }
    }
}

extension ModelManifest.Architecture {
    /// The architectures a Hugging Face checkpoint can be served with.
    public static var checkpointArchitectures: [Self] { allCases.filter { $0.loader.checkpointLayout != nil } }

    /// The architecture that serves a checkpoint with this config.json, by its `model_type`.
    public init(checkpointConfig data: Data) throws(ModelRegistry.SkipReason) {
        let supported = Self.checkpointArchitectures.flatMap { $0.loader.checkpointLayout?.modelTypes ?? [] }
        guard let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let modelType = config["model_type"] as? String else {
            throw .inconsistent(field: "config.json", detail: "no model_type (supported: \(supported.joined(separator: ", ")))")
        }
        guard let architecture = Self.checkpointArchitectures.first(where: { $0.loader.checkpointLayout?.modelTypes.contains(modelType) == true }) else {
            throw .architectureNotSupported("of model_type \(modelType) (this build serves model_type \(supported.joined(separator: ", ")))")
        }
        self = architecture
    }
}
