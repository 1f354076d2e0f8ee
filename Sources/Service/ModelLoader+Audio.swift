import Encoders
import Foundation

extension ModelLoader {
    /// Bridges that bring audio into every text space: speech -> transcript -> text encoder, with the default
    /// (else first) Whisper model of the manifest. Audio longer than `limits.maxAudioSeconds`, or sampled faster
    /// than `limits.maxAudioSampleRate`, is refused.
    /// Audio that has no words is pointed to `audioSpace`, the audio-to-audio space, when one is loaded.
    func audioBridges(_ registry: ModelRegistry, audioSpace: String?) throws -> [any ModalityBridge] {
        let (loaded, skipped) = registry.loadSpeechModels(modelsDirectory: directory, threads: threads)
        for model in skipped { logger.warning("skipped \(model)") }
        for model in loaded { logger.info("loaded \(model.id) (whisper, speech recognition, space \(model.fingerprint))") }
        guard let speech = loaded.first(where: \.isDefault) ?? loaded.first else { return [] }
        return [SpeechBridge(model: speech, limits: limits, audioSpace: audioSpace)]
    }

    /// Audio-to-audio spaces: each sound-effects model (aisfx) of the manifest.
    func soundEffectsSpaces(_ registry: ModelRegistry) -> [SoundEffectsSpace] {
        let (loaded, skipped) = registry.loadSoundEffectsModels(modelsDirectory: directory, threads: threads, precision: precision)
        for model in skipped { logger.warning("skipped \(model)") }
        return loaded.map { model in
            logger.info("loaded \(model.id) (aisfx, sound effects, \(model.cnn.dimensions)-d audio-to-audio space \(model.fingerprint))")
            return SoundEffectsSpace(model: model, limits: limits)
        }
    }
}
