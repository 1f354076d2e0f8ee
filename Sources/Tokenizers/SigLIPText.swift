/// SigLIP's text canonicalisation before SentencePiece (transformers `SiglipTokenizer.canonicalize_text`, after
/// big_vision's prompt_engineering.py): lowercased, ASCII punctuation (Python's `string.punctuation`) removed,
/// whitespace runs collapsed to one space, trimmed. Whitespace is Python's `str.isspace`: Unicode White_Space plus
/// the separators U+001C…U+001F.
public enum SigLIPText {
    public static func canonical(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.lowercased().unicodeScalars {
            if isPunctuation(scalar) { continue }
            if scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(scalar)
        }
        return String(out)
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        (0x21...0x2F).contains(s.value) || (0x3A...0x40).contains(s.value) || (0x5B...0x60).contains(s.value)
            || (0x7B...0x7E).contains(s.value)
    }
}
