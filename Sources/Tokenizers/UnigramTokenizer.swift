import Foundation

/// A SentencePiece Unigram tokenizer (Kudo 2018, "Subword Regularization", arXiv:1804.10959) as Hugging Face
/// tokenizers runs a tokenizer.json whose model is `Unigram` (T5, SigLIP, ALBERT, XLM-R and the other
/// SentencePiece models transformers converts).
///
/// - Pipeline, each step as tokenizers does it: special added tokens (`normalized: false`) are cut out of the raw
///   text; each remaining segment is normalised (`Precompiled`, `Replace`, `Strip`, `Lowercase`, `NFC`/`NFKC`/`NFD`/
///   `NFKD`, in a `Sequence`), pre-tokenised by `Metaspace` (spaces → "▁", the prefix "▁" per `prepend_scheme`,
///   split before each "▁" when `split`), and each piece is segmented by Viterbi over the vocabulary's scores
///   (unknown characters score min − 10 and consecutive ones fuse into one token, which becomes its UTF-8 bytes
///   `<0xXX>` under `byte_fallback`, else `unk_id`). The post-processor's template (`TemplateProcessing`, single
///   sequence) adds its special tokens; the file's `truncation` (right, room kept for the special tokens) and
///   `padding` (right, fixed length) apply as configured.
/// - Matches tokenizers 0.23 on the fixtures of models/siglip_tokenizer_fixtures.py (Tests/TokenizersTests).
///   Grapheme clusters (the Precompiled rule) follow Swift's segmentation, which tracks the same UAX #29 as the
///   unicode-segmentation crate.
/// - Anything else in the file (another model, pre-tokenizer or normalizer, `normalized: true` added tokens, left
///   truncation or padding) is refused by name when loading.
public struct UnigramTokenizer: Sendable {
    struct Piece: Sendable { let text: [UInt8]; let score: Double }

    enum Prepend: String, Sendable { case always, first, never }

    struct AddedToken: Sendable {
        let bytes: [UInt8]
        let id: Int32
        let lstrip: Bool
        let rstrip: Bool
    }

    let normalizers: [TextNormalizer]
    /// Metaspace: the replacement of " ", when to prepend it, whether to split before it.
    let metaspace: (replacement: String, prepend: Prepend, split: Bool)?
    let pieces: [Piece]
    let table: PieceTable
    let longestPiece: Int
    let unkScore: Double
    let unkID: Int32
    /// Ids of `<0x00>` … `<0xFF>` when byte_fallback is on and all 256 are in the vocabulary.
    let byteIDs: [Int32]?
    let addedTokens: [AddedToken]
    /// The template's special tokens before and after the sequence.
    let prefix: [Int32]
    let suffix: [Int32]
    /// `truncation.max_length`, special tokens included.
    public let maxLength: Int?
    /// `padding`: fixed length and pad id.
    public let padding: (length: Int, id: Int32)?

    public var vocabularySize: Int { pieces.count }

    /// Token ids of `text`: the template's special tokens, truncated and padded as the file says.
    public func encode(_ text: String) -> TokenizedText {
        var ids = prefix
        ids += pieceIDs(text)
        var truncated = false
        if let maxLength, ids.count + suffix.count > maxLength {
            ids = Array(ids.prefix(max(0, maxLength - suffix.count)))
            truncated = true
        }
        ids += suffix
        if let padding, ids.count < padding.length {
            ids += [Int32](repeating: padding.id, count: padding.length - ids.count)
        }
        return TokenizedText(ids: ids, truncated: truncated)
    }

    /// Tokens of `text` with the template's special tokens, before truncation and padding.
    public func tokenCount(_ text: String) -> Int { prefix.count + pieceIDs(text).count + suffix.count }

    /// The ids of the text's pieces, without the template, truncation or padding.
    func pieceIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for part in split(Array(text.utf8)) {
            switch part {
            case .added(let id): ids.append(id)
            case .text(let bytes, let atStart):
                var normalized = String(decoding: bytes, as: UTF8.self)
                for step in normalizers { normalized = step.apply(normalized) }
                for word in preTokenize(normalized, atStart: atStart) { ids += viterbi(Array(word.utf8)) }
            }
        }
        return ids
    }

    enum Segment { case added(Int32), text([UInt8], atStart: Bool) }

    /// The raw text cut at special added tokens (leftmost, longest first), their lstrip/rstrip applied.
    func split(_ bytes: [UInt8]) -> [Segment] {
        guard !addedTokens.isEmpty else { return [.text(bytes, atStart: true)] }
        var segments: [Segment] = []
        var start = 0, i = 0
        while i < bytes.count {
            guard let token = addedTokens.first(where: { t in
                i + t.bytes.count <= bytes.count && bytes[i..<(i + t.bytes.count)].elementsEqual(t.bytes)
            }) else { i += 1; continue }
            var end = i
            if token.lstrip { while end > start, Self.isSpaceByte(bytes[end - 1]) { end -= 1 } }
            if end > start { segments.append(.text(Array(bytes[start..<end]), atStart: start == 0)) }
            segments.append(.added(token.id))
            i += token.bytes.count
            if token.rstrip { while i < bytes.count, Self.isSpaceByte(bytes[i]) { i += 1 } }
            start = i
        }
        if start < bytes.count { segments.append(.text(Array(bytes[start...]), atStart: start == 0)) }
        return segments
    }

    private static func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// Metaspace: " " → "▁", the prefix, then words that each start at a "▁" (tokenizers' MergedWithNext).
    func preTokenize(_ normalized: String, atStart: Bool) -> [String] {
        guard !normalized.isEmpty else { return [] }
        guard let metaspace else { return [normalized] }
        var text = normalized.replacingOccurrences(of: " ", with: metaspace.replacement, options: .literal)
        let prepend = metaspace.prepend == .always || (metaspace.prepend == .first && atStart)
        if prepend && !text.unicodeScalars.starts(with: metaspace.replacement.unicodeScalars) {
            text = metaspace.replacement + text
        }
        guard metaspace.split, let mark = metaspace.replacement.unicodeScalars.first else { return [text] }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == mark && !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
            current.append(scalar)
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// Viterbi segmentation of one pre-token (tokenizers' `Unigram::encode_optimized`), then the ids of its tokens.
    func viterbi(_ word: [UInt8]) -> [Int32] {
        let n = word.count
        guard n > 0 else { return [] }
        // best[end]: score of the best path ending at byte `end`, where its last token starts, its id.
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestID = [Int32](repeating: 0, count: n + 1)
        word.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < n {
                let charLength = Self.utf8Length(bytes[start])
                let base = bestScore[start]
                var hasSingleCharacter = false
                for length in 1...min(longestPiece, n - start) {
                    guard let id = table.lookup(UnsafeBufferPointer(rebasing: bytes[start..<(start + length)])) else { continue }
                    let end = start + length, score = base + pieces[Int(id)].score
                    if bestStart[end] < 0 || score > bestScore[end] { (bestScore[end], bestStart[end], bestID[end]) = (score, start, id) }
                    if length == charLength { hasSingleCharacter = true }
                }
                if !hasSingleCharacter {
                    let end = min(n, start + charLength), score = base + unkScore
                    if bestStart[end] < 0 || score > bestScore[end] { (bestScore[end], bestStart[end], bestID[end]) = (score, start, unkID) }
                }
                start += charLength
            }
        }
        // Back from the end; runs of unknown tokens fuse into one.
        var tokens: [(bytes: ArraySlice<UInt8>, id: Int32)] = []
        var end = n
        while end > 0 {
            let start = max(0, bestStart[end]), id = bestID[end]
            if id == unkID, let last = tokens.last, last.id == unkID, last.bytes.startIndex == end {
                tokens[tokens.count - 1] = (word[start..<last.bytes.endIndex], unkID)
            } else {
                tokens.append((word[start..<end], id))
            }
            end = start
        }
        var ids: [Int32] = []
        for token in tokens.reversed() {
            guard token.id == unkID else { ids.append(token.id); continue }
            if let id = Array(token.bytes).withUnsafeBufferPointer({ table.lookup($0) }) {
                ids.append(id)
            } else if let byteIDs {
                ids += token.bytes.map { byteIDs[Int($0)] }
            } else {
                ids.append(unkID)
            }
        }
        return ids
    }

    @inline(__always)
    static func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }
}
