import Foundation

/// CLIP's byte-level BPE tokenizer (Radford et al. 2021; OpenAI `clip/simple_tokenizer.py`, as in open_clip's
/// `SimpleTokenizer` and transformers' `CLIPTokenizer`).
///
/// - Files (a Hugging Face CLIP folder): vocab.json {token: id} and merges.txt ("#version" line, then one
///   merge "a b" per line, in rank order). OpenAI's bpe_simple_vocab_16e6.txt.gz holds the same merges.
/// - Text cleaning: HTML entities unescaped (twice), whitespace runs collapsed to one space, trimmed,
///   lowercased. OpenAI also runs ftfy.fix_text (mojibake repair); this build applies Unicode NFC
///   normalisation only, which is what ftfy does to well-formed text.
/// - Pre-tokenisation: `<|startoftext|>`, `<|endoftext|>`, the contractions 's 't 're 've 'm 'll 'd, letter runs,
///   single digits, runs of other non-space characters. Each piece's UTF-8 bytes are mapped to printable
///   characters (GPT-2's bytes_to_unicode), the last one suffixed with `</w>`, then merged by rank.
/// - Output: [<|startoftext|>] + ids + [<|endoftext|>], at most `contextLength` (77) ids; a longer text is cut
///   and its last id replaced by <|endoftext|> (open_clip's `tokenize(..., truncate=True)`).
public struct CLIPTokenizer: Sendable {
    public let vocabulary: [String: Int32]
    let ranks: [String: Int]  // "a b" -> merge rank
    public let startOfText: Int32
    public let endOfText: Int32
    public let contextLength: Int
    /// GPT-2's bytes_to_unicode, in its own order: the printable bytes (33–126, 161–172, 174–255) map to
    /// themselves, the other 68 to U+0100…; `byteOrder[i]` is the byte of vocabulary id i (and i + 256 with "</w>").
    static let byteOrder: [Int] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        return printable + (0..<256).filter { !printable.contains($0) }
    }()
    static let byteToUnicode: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        var shifted = 256
        for b in byteOrder {
            if b < 33 || (127...160).contains(b) || b == 173 {
                table[b] = Character(Unicode.Scalar(shifted)!)
                shifted += 1
            } else {
                table[b] = Character(Unicode.Scalar(b)!)
            }
        }
        return table
    }()
    nonisolated(unsafe) static let pattern = try! Regex(
        #"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+"#).ignoresCase()

    public init(vocabulary: [String: Int32], merges: [(String, String)], contextLength: Int = 77) throws(TokenizerError) {
        guard let sot = vocabulary["<|startoftext|>"], let eot = vocabulary["<|endoftext|>"] else {
            throw .missingToken(vocabulary["<|startoftext|>"] == nil ? "<|startoftext|>" : "<|endoftext|>")
        }
        self.vocabulary = vocabulary
        var ranks: [String: Int] = [:]
        for (i, merge) in merges.enumerated() { ranks["\(merge.0) \(merge.1)"] = i }
        self.ranks = ranks
        startOfText = sot
        endOfText = eot
        self.contextLength = contextLength
    }

    /// The vocabulary OpenAI's SimpleTokenizer builds from the merges: the 256 byte characters, the same with
    /// "</w>", each merge joined, then <|startoftext|> and <|endoftext|> (ids in that order; vocab.json of a
    /// Hugging Face CLIP folder holds exactly this).
    public static func vocabulary(fromMerges merges: [(String, String)]) -> [String: Int32] {
        let bytes = byteOrder.map { String(byteToUnicode[$0]) }
        let tokens = bytes + bytes.map { $0 + "</w>" } + merges.map { $0.0 + $0.1 } + ["<|startoftext|>", "<|endoftext|>"]
        var vocab: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = Int32(i) }
        return vocab
    }

    /// Reads merges.txt and vocab.json from a folder (without vocab.json, the vocabulary is rebuilt from the merges).
    public static func load(directory: URL, contextLength: Int = 77) throws(TokenizerError) -> CLIPTokenizer {
        var vocab: [String: Int32]?
        let mergesText: String
        do {
            let vocabURL = directory.appendingPathComponent("vocab.json")
            if FileManager.default.fileExists(atPath: vocabURL.path) {
                guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: vocabURL)) as? [String: Int] else {
                    throw TokenizerError.malformed(file: vocabURL.path, reason: "not a {token: id} object")
                }
                vocab = json.mapValues { Int32($0) }
            }
            mergesText = try String(contentsOf: directory.appendingPathComponent("merges.txt"), encoding: .utf8)
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw .malformed(file: directory.path, reason: error.localizedDescription)
        }
        let merges = mergesText.split(separator: "\n", omittingEmptySubsequences: true)
            .filter { !$0.hasPrefix("#version") }
            .compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ")
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
        return try CLIPTokenizer(vocabulary: vocab ?? vocabulary(fromMerges: merges), merges: merges, contextLength: contextLength)
    }

    /// Cleaned, lowercased text (see the type's header).
    public static func clean(_ text: String) -> String {
        let unescaped = unescapeHTML(unescapeHTML(text.precomposedStringWithCanonicalMapping))
        return unescaped.split(whereSeparator: \.isWhitespace).joined(separator: " ").lowercased()
    }

    /// Token ids with start and end tokens; `truncated` when the text did not fit in `contextLength`.
    public func encode(_ text: String) -> (ids: [Int32], truncated: Bool) {
        var ids: [Int32] = [startOfText]
        let cleaned = Self.clean(text)
        for match in cleaned.matches(of: Self.pattern) {
            let piece = String(cleaned[match.range])
            if piece == "<|startoftext|>" { ids.append(startOfText); continue }
            if piece == "<|endoftext|>" { ids.append(endOfText); continue }
            let mapped = piece.utf8.map { Self.byteToUnicode[Int($0)] }
            for token in bpe(mapped) {
                if let id = vocabulary[token] { ids.append(id) }
            }
        }
        ids.append(endOfText)
        guard ids.count > contextLength else { return (ids, false) }
        ids = Array(ids.prefix(contextLength))
        ids[contextLength - 1] = endOfText
        return (ids, true)
    }

    /// Byte-pair merges by rank over one pre-token (its characters, the last with "</w>").
    func bpe(_ chars: [Character]) -> [String] {
        guard !chars.isEmpty else { return [] }
        var word = chars.map { String($0) }
        word[word.count - 1] += "</w>"
        while word.count > 1 {
            var best: (rank: Int, at: Int)?
            for i in 0..<(word.count - 1) {
                if let r = ranks["\(word[i]) \(word[i + 1])"], r < best?.rank ?? .max { best = (r, i) }
            }
            guard let (_, _) = best else { break }
            let (first, second) = (word[best!.at], word[best!.at + 1])
            // Merge every occurrence of the pair, left to right (as the reference does).
            var merged: [String] = []
            var i = 0
            while i < word.count {
                if i < word.count - 1, word[i] == first, word[i + 1] == second {
                    merged.append(first + second)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word
    }

    /// html.unescape for the named entities that occur in captions plus numeric ones.
    static func unescapeHTML(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let named = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&apos;": "'", "&nbsp;": "\u{A0}"]
        var out = s
        for (entity, value) in named { out = out.replacingOccurrences(of: entity, with: value) }
        if let regex = try? Regex(#"&#(x[0-9a-fA-F]+|[0-9]+);"#) {
            out = out.replacing(regex) { match in
                let body = out[match.range].dropFirst(2).dropLast()
                let value = body.first == "x" || body.first == "X" ? UInt32(body.dropFirst(), radix: 16) : UInt32(body)
                return value.flatMap(Unicode.Scalar.init).map { String(Character($0)) } ?? String(out[match.range])
            }
        }
        return out
    }
}
