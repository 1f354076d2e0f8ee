import Domain
import Foundation
import Tensor

/// A sound-effects embedding model of the manifest (architecture "aisfx"): its own audio-to-audio space.
/// Folder models/<id>/: model.safetensors (converted from aisfx's checkpoint.pth by models/fetch).
/// Fingerprint over model.safetensors.
public struct LoadedSoundEffectsModel: LoadableModel {
    public let id: String
    public let fingerprint: String
    public let cnn: SoundEffectsCNN
    public let isDefault: Bool

    public static let modalities: [Modality] = [.audio]
    public var summary: String { "\(id) (aisfx, sound effects, \(cnn.dimensions)-d audio-to-audio space \(fingerprint))" }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedSoundEffectsModel {
        try ModelRegistry.requireFiles(["model.safetensors"], in: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        let cnn = try ModelRegistry.loading {
            try SoundEffectsCNN(weights: try SafeTensors(path: weights.path), threads: options.threads, precision: options.precision)
        }
        return LoadedSoundEffectsModel(
            id: entry.id, fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.safetensors", folder: folder),
            cnn: cnn, isDefault: entry.isDefault)
    }
}
