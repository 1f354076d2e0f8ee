import Encoders
import Media
import Tokenizers

/// How an error of the layers below Spaces (decoding media, tokenizing, encoding) counts against the input
/// that caused it, in words a client can act on. Service maps each case to a status (ErrorMapping.swift)
/// without knowing those layers; an error that is not an input's fault is nil: a server fault.
public enum InputFault: Sendable, Equatable {
    /// The input is over a server limit (pixels, seconds): RESOURCE_EXHAUSTED.
    case overLimit(String)
    /// The input cannot be embedded as sent: INVALID_ARGUMENT.
    case invalid(String)

    public init?(_ error: any Error) {
        switch error {
        case TokenizerError.tooLong(let tokens, let limit):
            self = .invalid("text is \(tokens) tokens, over the model's limit of \(limit); set truncate to END or START to cut it")
        case EncoderError.tokenizer(_, let message):
            self = .invalid(message)
        case EncoderError.invalidSequence, EncoderError.tokenOutOfRange:
            self = .invalid("\(error)")
        case ImageError.encodingFailed:
            return nil
        case ImageError.tooManyPixels, AudioError.tooLong:
            self = .overLimit("\(error)")
        case is ImageError, is AudioError:
            self = .invalid("\(error)")
        default:
            return nil
        }
    }
}
