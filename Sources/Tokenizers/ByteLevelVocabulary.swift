import Foundation

/// A GPT-2 byte-level BPE vocabulary read for *decoding* (ids -> text), as Whisper uses it: token i is line i of
/// CTranslate2's vocabulary.txt, written in GPT-2's byte-to-unicode alphabet (openai/gpt-2 encoder.py
/// `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100...). Special tokens
/// ("<|endoftext|>", "<|0.00|>") are looked up by name and never rendered as text.
public struct ByteLevelVocabulary: Sendable {
    public let tokens: [String]
    private let index: [String: Int]
    /// Per token: its bytes, or nil for a special token.
    private let bytes: [[UInt8]?]

    public init(tokens: [String]) {
        self.tokens = tokens
        var index: [String: Int] = [:]
        for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = i }
        self.index = index
        let table = Self.unicodeToByte
        bytes = tokens.map { token in
            if token.hasPrefix("<|") && token.hasSuffix("|>") { return nil }
            var out: [UInt8] = []
            for scalar in token.unicodeScalars {
                guard let b = table[scalar] else { return nil }
                out.append(b)
            }
            return out
        }
    }

    /// vocabulary.txt: one token per line, line i = id i.
    public init(contentsOf url: URL) throws(TokenizerError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .malformed(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        self.init(tokens: lines)
    }

    public var count: Int { tokens.count }

    /// The id of a token by its exact text (e.g. "<|endoftext|>").
    public func id(_ token: String) -> Int? { index[token] }

    /// The text of `ids`: bytes concatenated, then decoded as UTF-8 (invalid sequences become U+FFFD, as the
    /// reference's errors="replace"); special tokens are skipped.
    public func decode(_ ids: [Int]) -> String {
        var out: [UInt8] = []
        for id in ids where id >= 0 && id < bytes.count {
            if let b = bytes[id] { out += b }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let unicodeToByte: [Unicode.Scalar: UInt8] = {
        var visible = Array(33...126) + Array(161...172) + Array(174...255)
        var codes = visible
        var extra = 0
        for b in 0..<256 where !visible.contains(b) {
            visible.append(b)
            codes.append(256 + extra)
            extra += 1
        }
        var table: [Unicode.Scalar: UInt8] = [:]
        for (b, c) in zip(visible, codes) { table[Unicode.Scalar(UInt32(c))!] = UInt8(b) }
        return table
    }()
}
