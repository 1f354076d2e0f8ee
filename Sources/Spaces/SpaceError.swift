import Foundation

/// Per-input failures of a space that are not its lower modules' (those are `Media.ImageError`,
/// `Media.AudioError`, `Encoders.EncoderError`, `Tokenizers.TokenizerError`). Service turns each into a gRPC
/// status in one place (ErrorMapping.swift).
public enum SpaceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The space has no encoder for this kind of input.
    case modalityNotSupported(model: String, modality: String)
    /// The input or its options cannot be embedded as asked (the message says what to change).
    case invalidInput(String)
    /// A free-text instruction would leave the input too little room: it takes `tokens` of the model's tokens
    /// (nil: more than the model reads at all), over `limit`, half of what the model reads.
    case instructionTooLong(model: String, tokens: Int?, limit: Int)
    /// The input's caller went away (cancelled, or past its deadline) and its work was stopped between steps.
    case abandoned
    /// The audio holds no words the recogniser can vouch for: it has no place in a text space.
    case noSpeech(noSpeechProbability: Float, heard: String, audioSpace: String?)

    public var description: String {
        switch self {
        case let .modalityNotSupported(model, modality):
            return "model '\(model)' cannot embed \(modality) inputs: no \(modality) encoder is loaded for its space"
        case let .invalidInput(message):
            return message
        case let .instructionTooLong(model, tokens, limit):
            let size = tokens.map { "\($0) tokens" } ?? "more tokens than the model reads"
            return "the instruction takes \(size); model '\(model)' allows at most \(limit) (half of its max_tokens, so "
                + "that the input keeps room): shorten the instruction"
        case .abandoned:
            return "the call was cancelled or passed its deadline, so its work was stopped"
        case let .noSpeech(p, heard, audioSpace):
            let alternative = audioSpace.map { "; embed it with model '\($0)' for audio-to-audio similarity" } ?? ""
            return "audio has no trustworthy words (no-speech probability \(String(format: "%.2f", p)); Whisper heard \(heard)): "
                + "it is audio-only and gets no vector in a text space\(alternative)"
        }
    }
}
