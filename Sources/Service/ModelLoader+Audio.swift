import Encoders
import Foundation

extension ModelLoader {
    /// Bridges that bring audio into every text space: speech -> transcript -> text encoder, with the default
    /// (else first) Whisper model of the manifest. Audio longer than `limits.maxAudioSeconds` is refused.
    func audioBridges(_ registry: ModelRegistry) throws -> [any ModalityBridge] {
        let (loaded, skipped) = registry.loadSpeechModels(modelsDirectory: directory, threads: threads)
        for model in skipped { logger.warning("skipped \(model)") }
        for model in loaded { logger.info("loaded \(model.id) (whisper, speech recognition, space \(model.fingerprint))") }
        guard let speech = loaded.first(where: \.isDefault) ?? loaded.first else { return [] }
        return [SpeechBridge(model: speech, maxSeconds: limits.maxAudioSeconds, audioSpace: nil)]
    }
}
