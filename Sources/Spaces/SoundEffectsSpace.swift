import Domain
import Encoders
import Foundation
import Media

/// An audio-to-audio space (docs/ARCHITECTURE.md, "Spaces"): the aiSFX sound-effects network, for "sounds like this"
/// search over sound libraries, where speech recognition has no words to offer. Its own space, apart from the text
/// spaces: audio only, compared with audio only. A clip's vector is the L2-normalised mean of its 2.3 s block vectors
/// (aisfx embeds blocks with a hop of 1.15 s). Its token set is those block vectors: MEAN pooling is the default; an
/// instruction has no text encoder to be embedded by here and is refused.
struct SoundEffectsSpace: EmbeddingSpace {
    let model: LoadedSoundEffectsModel
    let audio: AudioDecoder
    let features = SoundEffectFeatures()
    let description: SpaceDescription

    init(model: LoadedSoundEffectsModel, limits: MediaLimits) {
        self.model = model
        audio = AudioDecoder(limits: limits)
        description = SpaceDescription(
            id: model.id, architecture: ModelManifest.Architecture.aisfx.rawValue, modalities: LoadedSoundEffectsModel.modalities,
            dimensions: model.cnn.dimensions, maxTokens: 0, space: model.fingerprint, defaultPooling: .mean,
            promptNames: [], isDefault: false, takesInstructions: false)
    }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        inputs.enumerated().map { i, input in
            Result { () throws -> EmbeddedVector in
                guard !abandoned(i) else { throw SpaceError.abandoned }
                guard case .audio(let media) = input else {
                    throw SpaceError.modalityNotSupported(model: model.id, modality: "\(input.modality)")
                }
                if options.instruction != nil || options.pooling == .instruction {
                    throw SpaceError.invalidInput(
                        "model '\(model.id)' is an audio-to-audio space without text: it takes no instruction or prompt")
                }
                let samples = try audio.decode(media.data, rate: SoundEffectFeatures.sampleRate)
                let (values, frames) = features(samples)
                let blocks: [[Float]]
                do { blocks = try model.cnn.forward(values, frames: frames, stop: { abandoned(i) }) } catch EncoderError.stopped {
                    throw SpaceError.abandoned
                }
                return EmbeddedVector(values: InstructionPooling.mean(blocks))
            }
        }
    }
}
