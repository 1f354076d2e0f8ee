import Tensor

/// Errors of the Encoders module (STYLE item 8): loading errors name the file and tensor, request errors name the
/// sequence. Converted to gRPC status only at the Service boundary.
public enum EncoderError: Error, Equatable, CustomStringConvertible {
    /// config.json is missing, unreadable or describes something this encoder does not implement.
    case invalidConfig(file: String, detail: String)
    /// The safetensors file itself is malformed (see `SafeTensorsError`).
    case weights(SafeTensorsError)
    /// A tensor the architecture needs is absent.
    case missingTensor(file: String, tensor: String)
    /// A tensor has the wrong shape.
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])
    /// The checkpoint holds tensors the architecture does not know ("expected N tensors, got M").
    case unexpectedTensors(file: String, expectedCount: Int, actualCount: Int, names: [String])
    /// A request sequence is empty or longer than the position table.
    case invalidSequence(index: Int, length: Int, maxLength: Int)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(index: Int, token: Int32, vocabSize: Int)
    /// A tensor op failed (a bug or an inconsistent checkpoint): the op and shapes are in the payload.
    case tensor(TensorError)
    /// The tokenizer refused a text.
    case tokenizer(index: Int, message: String)
    /// The caller asked the work to stop (its request was cancelled or passed its deadline) between two steps.
    case stopped
    /// A pooling that has no single-sequence form (`instruction`: resolve it to the model's own first).
    case poolingNotApplicable(String)

    public var description: String {
        switch self {
        case let .invalidConfig(file, detail): return "\(file): \(detail)"
        case let .weights(error): return error.description
        case let .missingTensor(file, tensor): return "\(file): missing tensor '\(tensor)'"
        case let .shapeMismatch(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)' has shape \(actual), expected \(expected)"
        case let .unexpectedTensors(file, expected, actual, names):
            return "\(file): expected \(expected) tensors, got \(actual); unknown: \(names.joined(separator: ", "))"
        case let .invalidSequence(index, length, maxLength):
            return "sequence \(index): length \(length) outside 1...\(maxLength)"
        case let .tokenOutOfRange(index, token, vocabSize):
            return "sequence \(index): token id \(token) outside vocabulary 0..<\(vocabSize)"
        case let .tensor(error): return error.description
        case let .tokenizer(index, message): return "text \(index): \(message)"
        case .stopped: return "stopped: the caller no longer wants the result"
        case let .poolingNotApplicable(pooling): return "\(pooling) pooling has no single-sequence form"
        }
    }
}
