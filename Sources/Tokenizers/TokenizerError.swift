import Domain
import Foundation

/// The token ids of one text, ready for the encoder: `[CLS] pieces… [SEP]`.
public struct TokenizedText: Sendable, Equatable {
    public var ids: [Int32]
    /// True when pieces were dropped to fit the limit.
    public var truncated: Bool

    public init(ids: [Int32], truncated: Bool) {
        self.ids = ids
        self.truncated = truncated
    }
}

/// Errors of the Tokenizers module. Each case names the file or the limit involved.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text needs `tokens` ids (special tokens included) but the limit is `limit` and truncation is `.none`.
    case tooLong(tokens: Int, limit: Int)
    /// `maxTokens` cannot hold even the special tokens.
    case invalidLimit(maxTokens: Int, minimum: Int)
    /// Neither tokenizer.json nor vocab.txt in the folder.
    case missingFiles(directory: String)
    /// A file exists but cannot be parsed or lacks a required field.
    case malformed(file: String, reason: String)
    /// A valid file that describes a tokenizer this implementation does not cover.
    case unsupported(file: String, feature: String)
    /// A special token (e.g. `[CLS]`) that the vocabulary does not contain.
    case missingToken(String)

    public var description: String {
        switch self {
        case let .tooLong(tokens, limit):
            return "text is \(tokens) tokens, over the limit of \(limit) (truncation disabled)"
        case let .invalidLimit(maxTokens, minimum):
            return "maxTokens \(maxTokens) is below the minimum of \(minimum) (the special tokens)"
        case let .missingFiles(directory):
            return "no tokenizer.json or vocab.txt in \(directory)"
        case let .malformed(file, reason):
            return "\(file): \(reason)"
        case let .unsupported(file, feature):
            return "\(file): unsupported \(feature)"
        case let .missingToken(token):
            return "special token \(token) is not in the vocabulary"
        }
    }
}
