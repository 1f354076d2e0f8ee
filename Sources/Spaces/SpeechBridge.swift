import Domain
import Encoders
import Foundation
import Media

/// Brings speech into a text space (docs/ARCHITECTURE.md, "Spaces"): Whisper transcribes, the space's own text encoder
/// embeds the transcript — so a spoken query lands exactly where its words would, in whatever text space (MiniLM,
/// CLIP's text tower). Audio without trustworthy words gets no vector: its item fails with `SpaceError.noSpeech`, which
/// says what Whisper heard and why it was not trusted, and points to the audio-to-audio space.
struct SpeechBridge: ModalityBridge {
    let recognizer: SpeechRecognizer
    /// The model id of the audio-to-audio space, named in the no-speech message when it is loaded.
    let audioSpace: String?
    let instructionPooling: InstructionPooling

    init(model: LoadedSpeechModel, limits: MediaLimits, audioSpace: String?, decoding: SpeechDecoding = SpeechDecoding()) {
        recognizer = SpeechRecognizer(model: model, audio: AudioDecoder(limits: limits), decoding: decoding)
        self.audioSpace = audioSpace
        instructionPooling = model.instructionPooling
    }

    var modality: Modality { .audio }
    var name: String { "speech (\(recognizer.model.id) -> transcript -> text encoder)" }

    func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding,
               abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        media.enumerated().map { i, item in
            Result { () throws -> EmbeddedVector in
                let transcript = try recognizer.transcribe(item.data, stop: { abandoned(i) })
                let words = transcript.text
                guard !words.isEmpty else {
                    let heard = transcript.segments.map { "'\($0.text.trimmingCharacters(in: .whitespaces))' (\($0.rejected ?? ""))" }
                    throw SpaceError.noSpeech(noSpeechProbability: transcript.noSpeechProbability,
                                               heard: heard.joined(separator: ", "), audioSpace: audioSpace)
                }
                // The transcript is text of the space: a prompt or instruction prefixes it as any text.
                var vector = try text.embed(texts: [words], options: options)[0].get()
                if transcript.hypotheses.count > 1 {
                    // N-best: the hypotheses' vectors weighted by their probability (the first is `words`).
                    let others = try text.embed(texts: transcript.hypotheses.dropFirst().map(\.text), options: options).map { try $0.get().values }
                    vector.values = InstructionPooling.weighted([vector.values] + others, weights: transcript.hypotheses.map(\.weight))
                }
                // Its sentences are the item's token set (docs/ARCHITECTURE.md, "Instruction pooling"): an instruction picks out the part it names.
                let pooling = TokenPooling(options)
                if pooling != .native {
                    let sentences = transcript.sentences
                    let tokens = try text.embed(texts: sentences, options: EmbeddingOptions()).map { try $0.get().values }
                    if case .instruction(let instruction) = pooling {
                        vector.values = instructionPooling.pool(native: vector.values, tokens: tokens, query: try text.query(instruction))
                    } else {
                        vector.values = InstructionPooling.mean(tokens)
                    }
                }
                vector.transcript = words
                vector.noSpeechProbability = transcript.noSpeechProbability
                return vector
            }
        }
    }
}
