import Encoders
import Media
import Tensor

/// CLIP in a `JointSpace`: CLIP's BPE (context 77, no padding), images resized on the shorter side, centre-cropped
/// and normalised with CLIP's mean/std (or the manifest's "image"); the projected patch tokens are the token set.
extension LoadedCLIP: JointModel {
    static var architecture: ModelManifest.Architecture { .clip }
    var dimensions: Int { model.config.projectionDim }
    var contextLength: Int { model.config.contextLength }
    var specialTokens: Int { 2 }
    var logitScale: Float { model.logitScale }
    var logitBias: Float? { nil }

    func tokenize(_ text: String) -> (ids: [Int32], tokens: Int, truncated: Bool) {
        let (ids, truncated) = tokenizer.encode(text)
        return (ids, ids.count, truncated)
    }

    func encodeText(_ ids: [Int32]) throws -> [Float] { try model.encodeTexts([ids])[0] }

    func pixels(_ image: RGBImage) throws -> Tensor {
        let preprocessing = ImagePreprocessing(resize: resize, crop: crop, mean: mean, std: std)
        return try Tensor(shape: [1, crop, crop, 3], values: preprocessing(image))
    }

    func encodeImage(_ pixels: Tensor) throws -> (embedding: [Float], patches: [[Float]]) { try model.encodeImages(pixels)[0] }
}
