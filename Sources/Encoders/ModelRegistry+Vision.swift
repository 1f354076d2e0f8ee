import Foundation
import Tensor
import Tokenizers

/// An image classifier of the manifest (architecture "efficientnet-lite"), resolved and loaded: what the
/// ConSE bridge needs to bring images into a text space.
///
/// Folder models/<id>/: model.safetensors (converted by models/fetch), labels.json
/// ({"classes": [names], "templates": ["a photo of a {}.", …], "simple_templates": […]}).
/// Manifest fields besides the common ones (read here, not by `ModelManifest`, which knows text models):
///   "image": {"resize": 256, "crop": 224, "mean": [3], "std": [3]}  — preprocessing (defaults: these values
///            with TF Lite's mean 127/255, std 128/255);
///   "conse": {"top_k": T, "temperature": τ, "templates": "templates" | "simple_templates"};
///   "instruction_pooling": {"weight": w, "temperature": τ} (default `InstructionPooling.conceptDefault`).
public struct ImageClassifierSpec: Sendable, Equatable {
    public var id: String
    public var folder: URL
    public var weights: URL
    public var classes: [String]
    /// Prompt templates with "{}" for the class name.
    public var templates: [String]
    public var resize: Int
    public var crop: Int
    public var mean: [Float]
    public var std: [Float]
    public var topK: Int
    public var temperature: Float
    /// INSTRUCTION pooling over the concept vectors of the image's views.
    public var instructionPooling: InstructionPooling
    public var version: String
    /// Names the classifier (id, weights, version), for the fingerprint of the spaces it bridges into.
    public var fingerprint: String
}

public struct LoadedImageClassifier: Sendable {
    public let spec: ImageClassifierSpec
    public let model: EfficientNetLite
}

extension ModelRegistry {
    /// Resolves and loads every "efficientnet-lite" entry of the manifest; problems land in `skipped`, named.
    public static func loadImageClassifiers(modelsDirectory: URL, manifest manifestURL: URL? = nil,
                                            threads: Int = 1, precision: Precision = .float32) -> (loaded: [LoadedImageClassifier], skipped: [Skipped]) {
        let url = manifestURL ?? modelsDirectory.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url),  // the registry has already reported an unreadable manifest
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = root["models"] as? [[String: Any]] else { return ([], []) }
        var loaded: [LoadedImageClassifier] = []
        var skipped: [Skipped] = []
        for entry in entries where entry["architecture"] as? String == ModelManifest.Architecture.efficientNetLite.rawValue {
            let id = entry["id"] as? String ?? "?"
            do {
                let spec = try resolveImageClassifier(entry, folder: modelsDirectory.appendingPathComponent(id))
                let model: EfficientNetLite
                do {
                    model = try EfficientNetLite(weights: try SafeTensors(path: spec.weights.path), imageSize: spec.crop,
                                                 threads: threads, precision: precision)
                } catch { throw SkipReason.loadFailed("\(error)") }
                guard model.numClasses == spec.classes.count else {
                    throw SkipReason.inconsistent(field: "labels.json",
                                                  detail: "\(spec.classes.count) class names for a \(model.numClasses)-class model")
                }
                loaded.append(LoadedImageClassifier(spec: spec, model: model))
            } catch let reason as SkipReason {
                skipped.append(Skipped(id: id, reason: reason))
            } catch {
                skipped.append(Skipped(id: id, reason: .loadFailed("\(error)")))
            }
        }
        return (loaded, skipped)
    }

    static func resolveImageClassifier(_ entry: [String: Any], folder: URL) throws(SkipReason) -> ImageClassifierSpec {
        let id = entry["id"] as? String ?? "?"
        try requireFiles(["model.safetensors", "labels.json"], in: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        let labelsURL = folder.appendingPathComponent("labels.json")
        let image = entry["image"] as? [String: Any] ?? [:]
        let conse = entry["conse"] as? [String: Any] ?? [:]
        guard let labelsData = try? Data(contentsOf: labelsURL),
              let labels = try? JSONSerialization.jsonObject(with: labelsData) as? [String: Any],
              let classes = labels["classes"] as? [String] else {
            throw .inconsistent(field: "labels.json", detail: "not a JSON object with a \"classes\" list of names")
        }
        let templateKey = conse["templates"] as? String ?? "templates"
        guard let templates = labels[templateKey] as? [String], !templates.isEmpty, templates.allSatisfy({ $0.contains("{}") }) else {
            throw .inconsistent(field: "conse.templates", detail: "labels.json has no list \"\(templateKey)\" of templates with {}")
        }
        func floats(_ key: String, _ fallback: Float) throws(SkipReason) -> [Float] {
            guard let v = image[key] else { return [fallback, fallback, fallback] }
            guard let list = v as? [Double], list.count == 3 else {
                throw .inconsistent(field: "image.\(key)", detail: "expected 3 numbers")
            }
            return list.map(Float.init)
        }
        let crop = image["crop"] as? Int ?? 224
        let resize = image["resize"] as? Int ?? crop * 8 / 7
        guard crop > 0, resize >= crop else { throw .inconsistent(field: "image", detail: "need 0 < crop <= resize") }
        let version = (entry["source"] as? [String: Any])?["version"] as? String ?? "local"
        let sha = (entry["files"] as? [[String: Any]])?.first { $0["path"] as? String == "model.safetensors" }?["sha256"] as? String
        let identity: String
        if let sha { identity = sha } else { identity = try headerIdentity(weights) }
        return ImageClassifierSpec(
            id: id, folder: folder, weights: weights, classes: classes, templates: templates, resize: resize, crop: crop,
            mean: try floats("mean", 127.0 / 255), std: try floats("std", 128.0 / 255),
            topK: conse["top_k"] as? Int ?? 10, temperature: Float(conse["temperature"] as? Double ?? 1),
            instructionPooling: try instructionPooling(entry, default: .conceptDefault),
            version: version, fingerprint: fingerprint(id: id, weights: identity, version: version))
    }
}

/// A CLIP checkpoint of the manifest (architecture "clip"), resolved and loaded: a joint text-image space.
///
/// Folder models/<id>/ as Hugging Face writes a CLIPModel (e.g. openai/clip-vit-base-patch32): config.json,
/// model.safetensors, merges.txt (+ vocab.json). Preprocessing: the shorter side resized (bicubic) to the
/// model's image_size, centre crop, CLIP's mean/std — unless the manifest entry's "image" says otherwise.
public struct LoadedCLIP: Sendable {
    public let id: String
    public let model: CLIP
    public let tokenizer: CLIPTokenizer
    public let resize: Int
    public let crop: Int
    public let mean: [Float]
    public let std: [Float]
    public let isDefault: Bool
    public let fingerprint: String
    /// INSTRUCTION pooling over the projected patch tokens.
    public let instructionPooling: InstructionPooling
    public static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]
}

extension ModelRegistry {
    /// Architectures loaded by this file rather than by `load` (which serves BERT-family text models).
    static let imageArchitectures: [ModelManifest.Architecture] = [.efficientNetLite, .clip]

    /// Resolves and loads every "clip" entry of the manifest; problems land in `skipped`, named.
    public static func loadCLIPModels(modelsDirectory: URL, manifest manifestURL: URL? = nil,
                                      precision: Precision = .float32) -> (loaded: [LoadedCLIP], skipped: [Skipped]) {
        let url = manifestURL ?? modelsDirectory.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url),  // the registry has already reported an unreadable manifest
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = root["models"] as? [[String: Any]] else { return ([], []) }
        var loaded: [LoadedCLIP] = []
        var skipped: [Skipped] = []
        for entry in entries where entry["architecture"] as? String == ModelManifest.Architecture.clip.rawValue {
            let id = entry["id"] as? String ?? "?"
            let folder = modelsDirectory.appendingPathComponent(id)
            do {
                try requireFiles(["config.json", "model.safetensors", "merges.txt"], in: folder)
                let weights = folder.appendingPathComponent("model.safetensors")
                let config = try CLIP.Config.load(from: folder.appendingPathComponent("config.json"))
                let model = try CLIP(config: config, weights: try SafeTensors(path: weights.path), precision: precision)
                let tokenizer = try CLIPTokenizer.load(directory: folder, contextLength: config.contextLength)
                let image = entry["image"] as? [String: Any] ?? [:]
                let version = (entry["source"] as? [String: Any])?["version"] as? String ?? "local"
                let sha = (entry["files"] as? [[String: Any]])?.first { $0["path"] as? String == "model.safetensors" }?["sha256"] as? String
                let identity: String
                if let sha { identity = sha } else { identity = try headerIdentity(weights) }
                loaded.append(LoadedCLIP(
                    id: id, model: model, tokenizer: tokenizer,
                    resize: image["resize"] as? Int ?? config.imageSize, crop: image["crop"] as? Int ?? config.imageSize,
                    mean: (image["mean"] as? [Double])?.map(Float.init) ?? LoadedCLIP.clipMean,
                    std: (image["std"] as? [Double])?.map(Float.init) ?? LoadedCLIP.clipStd,
                    isDefault: entry["is_default"] as? Bool ?? false,
                    fingerprint: fingerprint(id: id, weights: identity, version: version),
                    instructionPooling: try instructionPooling(entry, default: .patchDefault)))
            } catch let reason as SkipReason {
                skipped.append(Skipped(id: id, reason: reason))
            } catch {
                skipped.append(Skipped(id: id, reason: .loadFailed("\(error)")))
            }
        }
        return (loaded, skipped)
    }

    /// The entry's "instruction_pooling" {"weight", "temperature"}, checked; `fallback` when absent.
    static func instructionPooling(_ entry: [String: Any], default fallback: InstructionPooling) throws(SkipReason) -> InstructionPooling {
        guard let object = entry["instruction_pooling"] else { return fallback }
        guard let fields = object as? [String: Any], let weight = fields["weight"] as? Double,
              let temperature = fields["temperature"] as? Double, temperature > 0, (0...1).contains(weight) else {
            throw .inconsistent(field: "instruction_pooling", detail: "expected {\"weight\": 0...1, \"temperature\": > 0}")
        }
        return InstructionPooling(weight: Float(weight), temperature: Float(temperature))
    }
}
