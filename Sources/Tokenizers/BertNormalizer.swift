import Foundation

/// BERT's text normalisation and pre-tokenisation ("BasicTokenizer"), matching Hugging Face `tokenizers`
/// (`normalizers/bert.rs` `BertNormalizer` + `pre_tokenizers/bert.rs` `BertPreTokenizer`), which is what
/// `BertTokenizerFast` runs. Steps, in the reference's order:
///
/// 1. clean text: drop U+0000, U+FFFD and "control" scalars (general categories Cc, Cf, Co — but tab, LF
///    and CR count as whitespace; unassigned Cn scalars are kept, as the reference does); map every
///    White_Space scalar to U+0020;
/// 2. CJK: surround each CJK ideograph with spaces, so each becomes its own word;
/// 3. strip accents (defaults to `lowercase` when the config says null): NFD, then drop Mn scalars;
/// 4. lowercase with the full per-scalar mapping (`İ` → `i̇` when accents are kept);
/// 5. pre-tokenise: split on White_Space (dropped) and isolate every punctuation scalar
///    (ASCII `!`…`/`, `:`…`@`, `[`…`` ` ``, `{`…`~`, plus Unicode P*).
///
/// Works on `Unicode.Scalar`s, never `Character`s: the reference counts and splits by code points, and
/// scalar arrays avoid grapheme breaking on the request path.
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    public var stripAccents: Bool
    public var lowercase: Bool

    /// `stripAccents: nil` follows `lowercase`, as in the reference.
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil,
                lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// Steps 1–4 on one segment of raw text.
    public func normalize(_ input: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count + 16)
        var asciiOnly = true
        for s in input {
            let v = s.value
            if cleanText {
                if v == 0 || v == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) { out.append(" "); continue }
            }
            if v >= 0x80 { asciiOnly = false }
            if handleChineseChars && Self.isChineseChar(v) {
                out.append(" "); out.append(s); out.append(" ")
            } else {
                out.append(s)
            }
        }
        if asciiOnly {
            if lowercase {
                for i in out.indices where (65...90).contains(out[i].value) {
                    out[i] = Unicode.Scalar(UInt8(out[i].value + 32))
                }
            }
            return out
        }
        if stripAccents {
            var text = String()
            text.unicodeScalars.append(contentsOf: out)
            out.removeAll(keepingCapacity: true)
            for s in text.decomposedStringWithCanonicalMapping.unicodeScalars
            where s.properties.generalCategory != .nonspacingMark {
                out.append(s)
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(out.count)
            for s in out {
                if s.value < 0x80 {
                    lowered.append((65...90).contains(s.value) ? Unicode.Scalar(UInt8(s.value + 32)) : s)
                } else if s.properties.changesWhenLowercased {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                } else {
                    lowered.append(s)
                }
            }
            out = lowered
        }
        return out
    }

    /// Step 5: calls `body` with each word (a non-empty run of scalars) in order.
    public static func forEachWord(in scalars: [Unicode.Scalar], _ body: (ArraySlice<Unicode.Scalar>) -> Void) {
        var start = 0
        for i in scalars.indices {
            let s = scalars[i]
            if isWhitespace(s) {
                if start < i { body(scalars[start..<i]) }
                start = i + 1
            } else if isPunctuation(s) {
                if start < i { body(scalars[start..<i]) }
                body(scalars[i...i])
                start = i + 1
            }
        }
        if start < scalars.count { body(scalars[start...]) }
    }

    // MARK: Character classes (tokenizers/src/normalizers/bert.rs, pre_tokenizers/bert.rs)

    /// Rust `char::is_whitespace` (the White_Space property) plus tab/LF/CR.
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || (0x09...0x0D).contains(v) }
        return s.properties.isWhitespace
    }

    /// Cc, Cf or Co (not Cn: measured against the reference), except tab, LF and CR.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// ASCII punctuation and symbols (as BERT's original code) or Unicode P*.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK blocks of `bert.rs` `is_chinese_char` (Unified Ideographs, extensions A–E, compatibility).
    /// Extension E starts at U+2B920 there (U+2B820 in Google's Python original); we follow `tokenizers`.
    @inline(__always)
    static func isChineseChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
