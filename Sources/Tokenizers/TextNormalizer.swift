import Foundation

/// One step of a tokenizer.json `normalizer` (Hugging Face tokenizers' normalizers), applied to a whole segment.
enum TextNormalizer: Sendable {
    case precompiled(PrecompiledCharsmap)
    /// Unicode White_Space trimmed at either end (`Strip`).
    case strip(left: Bool, right: Bool)
    /// Every match replaced by `content` (`Replace`; regexes match scalar by scalar, as Oniguruma does).
    case replace(Pattern, content: String)
    case lowercase
    case nfc, nfd, nfkc, nfkd

    enum Pattern: @unchecked Sendable {  // Regex is an immutable value; it lacks the conformance only
        case literal(String)
        case regex(Regex<AnyRegexOutput>)
    }

    func apply(_ text: String) -> String {
        switch self {
        case .precompiled(let charsmap):
            return charsmap.normalize(text)
        case .strip(let left, let right):
            var scalars = Substring(text).unicodeScalars[...]
            if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            return String(String.UnicodeScalarView(scalars))
        case .replace(.literal(let pattern), let content):
            return text.replacingOccurrences(of: pattern, with: content, options: .literal)
        case .replace(.regex(let regex), let content):
            return text.replacing(regex, with: content)
        case .lowercase:
            return text.lowercased()
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        }
    }

    /// The steps of a tokenizer.json normalizer object (a `Sequence` is flattened).
    static func steps(_ json: [String: Any], file: String) throws(TokenizerError) -> [TextNormalizer] {
        let type = json["type"] as? String ?? "?"
        switch type {
        case "Sequence":
            guard let list = json["normalizers"] as? [[String: Any]] else {
                throw .malformed(file: file, reason: "normalizer Sequence without a \"normalizers\" list")
            }
            var steps: [TextNormalizer] = []
            for item in list { steps += try Self.steps(item, file: file) }
            return steps
        case "Precompiled":
            guard let base64 = json["precompiled_charsmap"] as? String else { return [] }  // null: identity
            guard let blob = Data(base64Encoded: base64) else {
                throw .malformed(file: file, reason: "precompiled_charsmap is not base64")
            }
            return blob.isEmpty ? [] : [.precompiled(try PrecompiledCharsmap(blob: Array(blob)))]
        case "Strip":
            return [.strip(left: json["strip_left"] as? Bool ?? true, right: json["strip_right"] as? Bool ?? true)]
        case "Replace":
            let content = json["content"] as? String ?? ""
            let pattern = json["pattern"] as? [String: Any] ?? [:]
            if let literal = pattern["String"] as? String { return [.replace(.literal(literal), content: content)] }
            guard let source = pattern["Regex"] as? String else {
                throw .malformed(file: file, reason: "Replace normalizer without a String or Regex pattern")
            }
            do {
                return [.replace(.regex(try Regex(source).matchingSemantics(.unicodeScalar)), content: content)]
            } catch {
                throw .unsupported(file: file, feature: "Replace regex \(source) (\(error))")
            }
        case "Lowercase": return [.lowercase]
        case "NFC": return [.nfc]
        case "NFD": return [.nfd]
        case "NFKC": return [.nfkc]
        case "NFKD": return [.nfkd]
        default:
            throw .unsupported(file: file, feature: "normalizer \(type)")
        }
    }
}
