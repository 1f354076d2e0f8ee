import Domain
import Foundation
import Tensor
import Tokenizers

/// A SigLIP checkpoint of the manifest or the Hub (architecture "siglip", config.json model_type "siglip"), loaded:
/// a joint text-image space whose cosines become match probabilities σ(cos·exp(logitScale) + logitBias).
///
/// Folder as Hugging Face writes a SiglipModel (e.g. google/siglip-base-patch16-224): config.json,
/// model.safetensors, and the SentencePiece tokenizer as tokenizer.json or, failing that, spiece.model (read as
/// transformers converts it); either way "</s>" is appended and the ids padded with it to max_position_embeddings
/// (64), as SiglipTokenizer with padding="max_length", the way SigLIP was trained. Preprocessing
/// as SiglipImageProcessor: both sides resized (bicubic) to image_size, no crop, mean = std = 0.5 — unless the
/// manifest entry's "image" says otherwise. SigLIP 2 (model_type "siglip2": NaFlex patch embeddings over variable
/// resolutions, Gemma's tokenizer) is not served. Fingerprint over model.safetensors.
public struct LoadedSigLIP: LoadableModel {
    public let id: String
    public let model: SigLIP
    public let tokenizer: UnigramTokenizer
    public let imageSize: Int
    public let mean: [Float]
    public let std: [Float]
    public let isDefault: Bool
    public let fingerprint: String
    /// INSTRUCTION pooling over the post-LayerNorm patch tokens.
    public let instructionPooling: InstructionPooling
    public static let siglipMean: [Float] = [0.5, 0.5, 0.5]
    public static let siglipStd: [Float] = [0.5, 0.5, 0.5]

    public static let modalities: [Modality] = [.text, .image]
    public static let checkpointLayout: CheckpointLayout? = CheckpointLayout(
        modelTypes: ["siglip"], required: ["config.json", "model.safetensors"],
        optional: ["tokenizer.json", "spiece.model", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"])
    public var summary: String {
        let c = model.config
        return "\(id) (siglip, ViT \(c.vision.layers)x\(c.vision.width) /\(c.patchSize) at \(c.imageSize)px, text \(c.text.layers)x\(c.text.width), "
            + "\(c.projectionSize)-d joint space \(fingerprint), logit_scale \(model.logitScale) logit_bias \(model.logitBias))"
    }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedSigLIP {
        try ModelRegistry.requireFiles(["config.json", "model.safetensors"], in: folder)
        let tokenizerJSON = folder.appendingPathComponent("tokenizer.json"), spiece = folder.appendingPathComponent("spiece.model")
        let hasJSON = FileManager.default.fileExists(atPath: tokenizerJSON.path)
        guard hasJSON || FileManager.default.fileExists(atPath: spiece.path) else {
            throw .fileMissing(path: folder.appendingPathComponent("tokenizer.json (or spiece.model)").path)
        }
        let (model, pieces) = try ModelRegistry.loading {
            let config = try SigLIP.Config.load(from: folder.appendingPathComponent("config.json"))
            let weights = try SafeTensors(path: folder.appendingPathComponent("model.safetensors").path)
            return (try SigLIP(config: config, weights: weights, precision: options.precision),
                    hasJSON ? try UnigramTokenizer.load(tokenizerJSON: tokenizerJSON) : try UnigramTokenizer.load(sentencePieceModel: spiece))
        }
        let tokenizerFile = hasJSON ? "tokenizer.json" : "spiece.model"
        guard pieces.vocabularySize <= model.config.vocabSize else {
            throw .inconsistent(field: tokenizerFile, detail: "\(pieces.vocabularySize) pieces for a vocab_size of \(model.config.vocabSize)")
        }
        guard let eos = pieces.id(of: "</s>") else { throw .inconsistent(field: tokenizerFile, detail: "no </s> piece") }
        let tokenizer = pieces.configured(suffix: [eos], maxLength: model.config.contextLength, padID: eos)
        let image = entry.image ?? ModelManifest.ImageSettings()
        return LoadedSigLIP(
            id: entry.id, model: model, tokenizer: tokenizer, imageSize: model.config.imageSize,
            mean: image.mean ?? siglipMean, std: image.std ?? siglipStd, isDefault: entry.isDefault,
            fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.safetensors", folder: folder),
            instructionPooling: entry.instructionPooling ?? .patchDefault)
    }
}
