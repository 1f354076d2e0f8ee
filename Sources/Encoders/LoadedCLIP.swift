import Domain
import Foundation
import Tensor
import Tokenizers

/// A CLIP checkpoint of the manifest (architecture "clip"), loaded: a joint text-image space.
///
/// Folder models/<id>/ as Hugging Face writes a CLIPModel (e.g. openai/clip-vit-base-patch32): config.json,
/// model.safetensors, merges.txt (+ vocab.json). Preprocessing: the shorter side resized (bicubic) to the
/// model's image_size, centre crop, CLIP's mean/std — unless the manifest entry's "image" says otherwise.
/// "instruction_pooling" defaults to `InstructionPooling.patchDefault`. Fingerprint over model.safetensors.
public struct LoadedCLIP: LoadableModel {
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

    public static let modalities: [Modality] = [.text, .image]
    public static let checkpointLayout: CheckpointLayout? = CheckpointLayout(
        modelTypes: ["clip"], required: ["config.json", "model.safetensors", "merges.txt"],
        optional: ["vocab.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"])
    public var summary: String {
        let c = model.config
        return "\(id) (clip, ViT \(c.vision.layers)x\(c.vision.width) /\(c.patchSize) at \(c.imageSize)px, text \(c.text.layers)x\(c.text.width), \(c.projectionDim)-d joint space \(fingerprint))"
    }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedCLIP {
        try ModelRegistry.requireFiles(["config.json", "model.safetensors", "merges.txt"], in: folder)
        let (model, tokenizer) = try ModelRegistry.loading {
            let config = try CLIP.Config.load(from: folder.appendingPathComponent("config.json"))
            let weights = try SafeTensors(path: folder.appendingPathComponent("model.safetensors").path)
            return (try CLIP(config: config, weights: weights, precision: options.precision),
                    try CLIPTokenizer.load(directory: folder, contextLength: config.contextLength))
        }
        let image = entry.image ?? ModelManifest.ImageSettings()
        return LoadedCLIP(
            id: entry.id, model: model, tokenizer: tokenizer,
            resize: image.resize ?? model.config.imageSize, crop: image.crop ?? model.config.imageSize,
            mean: image.mean ?? clipMean, std: image.std ?? clipStd, isDefault: entry.isDefault,
            fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.safetensors", folder: folder),
            instructionPooling: entry.instructionPooling ?? .patchDefault)
    }
}
