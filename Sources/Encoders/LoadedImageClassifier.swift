import Domain
import Foundation
import Tensor

/// An image classifier of the manifest (architecture "efficientnet-lite"), loaded with its class names: what
/// the ConSE bridge needs to bring images into a text space.
///
/// Folder models/<id>/: model.safetensors (converted by models/fetch), labels.json
/// ({"classes": [names], "templates": ["a photo of a {}.", …], "simple_templates": […]}).
/// Manifest: "image" (defaults: crop 224, resize crop·8/7, TF Lite's mean 127/255 and std 128/255), "conse"
/// (defaults: top_k 10, temperature 1, templates "templates"), "instruction_pooling" (default
/// `InstructionPooling.conceptDefault`). Fingerprint over model.safetensors.
public struct LoadedImageClassifier: LoadableModel {
    public let id: String
    public let folder: URL
    public let model: EfficientNetLite
    public let classes: [String]
    /// Prompt templates with "{}" for the class name.
    public let templates: [String]
    public let resize: Int
    public let crop: Int
    public let mean: [Float]
    public let std: [Float]
    public let topK: Int
    public let temperature: Float
    /// INSTRUCTION pooling over the concept vectors of the image's views.
    public let instructionPooling: InstructionPooling
    public let isDefault: Bool
    /// Names the classifier (id, weights, version), for the fingerprint of the spaces it bridges into.
    public let fingerprint: String

    public static let modalities: [Modality] = [.image]
    public var summary: String {
        "\(id) (efficientnet-lite, \(model.blockCount) blocks, \(crop)px, \(classes.count) classes, \(templates.count) templates, space \(fingerprint))"
    }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedImageClassifier {
        try ModelRegistry.requireFiles(["model.safetensors", "labels.json"], in: folder)
        let labelsURL = folder.appendingPathComponent("labels.json")
        guard let labelsData = try? Data(contentsOf: labelsURL),
              let labels = try? JSONSerialization.jsonObject(with: labelsData) as? [String: Any],
              let classes = labels["classes"] as? [String] else {
            throw .inconsistent(field: "labels.json", detail: "not a JSON object with a \"classes\" list of names")
        }
        let templateKey = entry.conse?.templates ?? "templates"
        guard let templates = labels[templateKey] as? [String], !templates.isEmpty, templates.allSatisfy({ $0.contains("{}") }) else {
            throw .inconsistent(field: "conse.templates", detail: "labels.json has no list \"\(templateKey)\" of templates with {}")
        }
        let image = entry.image ?? ModelManifest.ImageSettings()
        let crop = image.crop ?? 224
        let resize = image.resize ?? crop * 8 / 7
        guard crop > 0, resize >= crop else { throw .inconsistent(field: "image", detail: "need 0 < crop <= resize") }
        let weights = folder.appendingPathComponent("model.safetensors")
        let model = try ModelRegistry.loading {
            try EfficientNetLite(weights: try SafeTensors(path: weights.path), imageSize: crop, threads: options.threads,
                                 precision: options.precision)
        }
        guard model.numClasses == classes.count else {
            throw .inconsistent(field: "labels.json", detail: "\(classes.count) class names for a \(model.numClasses)-class model")
        }
        return LoadedImageClassifier(
            id: entry.id, folder: folder, model: model, classes: classes, templates: templates,
            resize: resize, crop: crop,
            mean: image.mean ?? Array(repeating: 127.0 / 255, count: 3), std: image.std ?? Array(repeating: 128.0 / 255, count: 3),
            topK: entry.conse?.topK ?? 10, temperature: entry.conse?.temperature ?? 1,
            instructionPooling: entry.instructionPooling ?? .conceptDefault, isDefault: entry.isDefault,
            fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.safetensors", folder: folder))
    }
}
