import Domain
import Foundation

/// WordPiece tokenizer for BERT-family models (BERT, MiniLM, bge, e5, gte), matching Hugging Face
/// `BertTokenizerFast` (the Rust `tokenizers` crate) id for id:
///
///   raw text ─ split out special tokens ([CLS], [SEP], … as literal text, matched before normalisation)
///            ─ BertNormalizer (clean, CJK, accents, lowercase) ─ words (whitespace / punctuation split)
///            ─ greedy longest-match-first WordPiece per word ("##" continuations; a word longer than
///              `maxInputCharsPerWord` scalars, or one that cannot be covered, is a single [UNK])
///            ─ truncate the pieces to `maxTokens - 2` ─ `[CLS] pieces [SEP]`.
///
/// Wu et al. 2016, "Google's Neural Machine Translation System" (WordPiece); Devlin et al. 2019 (BERT).
/// Loading from a model folder lives in `WordPieceTokenizer+Loading.swift`.
public struct WordPieceTokenizer: Sendable {
    public let normalizer: BertNormalizer
    public let unkId: Int32
    public let clsId: Int32
    public let sepId: Int32
    public let continuingSubwordPrefix: String
    /// Longer words (in Unicode scalars) become [UNK] without looking them up (reference default 100).
    public let maxInputCharsPerWord: Int
    /// `model_max_length` from tokenizer_config.json, when the folder states a real one.
    public let modelMaxLength: Int?

    /// Word-initial pieces.
    private let initial: PieceTable
    /// Continuation pieces, stored without the `##` prefix so a lookup never builds a prefixed key.
    private let continuation: PieceTable
    /// Longest piece in scalars: no candidate longer than this can match.
    private let maxPieceLength: Int
    /// id -> token, for `tokenize`.
    private let tokens: [String]
    /// Special tokens matched in the raw text, longest first.
    private let specials: [(scalars: [Unicode.Scalar], id: Int32)]
    /// First scalars of the special tokens: a bitmap for ASCII (the per-scalar test on the hot path), a set for
    /// the rest.
    private let specialFirstASCII: (low: UInt64, high: UInt64)
    private let specialFirstOther: Set<Unicode.Scalar>

    /// - Parameters:
    ///   - vocabulary: token -> id (the WordPiece `model.vocab`).
    ///   - specialTokens: tokens recognised verbatim in input text (HF "added tokens"); ids are taken from
    ///     the dictionary values, so a token need not be in `vocabulary`.
    public init(vocabulary: [String: Int32], normalizer: BertNormalizer = BertNormalizer(),
                unkToken: String = "[UNK]", clsToken: String = "[CLS]", sepToken: String = "[SEP]",
                specialTokens: [String: Int32] = [:], continuingSubwordPrefix: String = "##",
                maxInputCharsPerWord: Int = 100, modelMaxLength: Int? = nil) throws {
        func id(_ token: String) throws -> Int32 {
            guard let id = specialTokens[token] ?? vocabulary[token] else { throw TokenizerError.missingToken(token) }
            return id
        }
        self.normalizer = normalizer
        self.unkId = try id(unkToken)
        self.clsId = try id(clsToken)
        self.sepId = try id(sepToken)
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.modelMaxLength = modelMaxLength

        // Prefix tests on scalars, not Characters: in "##ि" the second "#" and the vowel sign form one grapheme.
        let prefix = Array(continuingSubwordPrefix.unicodeScalars)
        let prefixBytes = continuingSubwordPrefix.utf8.count
        var initial: [(key: [UInt8], id: Int32)] = []
        var continuation: [(key: [UInt8], id: Int32)] = []
        initial.reserveCapacity(vocabulary.count)
        var maxPieceLength = 0
        for (token, id) in vocabulary {
            let scalars = token.unicodeScalars
            initial.append((Array(token.utf8), id))
            if !prefix.isEmpty, scalars.starts(with: prefix), scalars.count > prefix.count {
                continuation.append((Array(token.utf8.dropFirst(prefixBytes)), id))
            }
            maxPieceLength = max(maxPieceLength, scalars.count)
        }
        self.initial = PieceTable(initial)
        self.continuation = prefix.isEmpty ? self.initial : PieceTable(continuation)
        self.maxPieceLength = maxPieceLength

        let allIds = Array(vocabulary.values) + Array(specialTokens.values)
        var tokens = [String](repeating: "", count: Int(allIds.max() ?? -1) + 1)
        for (token, id) in vocabulary where id >= 0 { tokens[Int(id)] = token }
        for (token, id) in specialTokens where id >= 0 { tokens[Int(id)] = token }
        self.tokens = tokens

        let specials = specialTokens.filter { !$0.key.isEmpty }
            .map { (scalars: Array($0.key.unicodeScalars), id: $0.value) }
            .sorted { $0.scalars.count != $1.scalars.count ? $0.scalars.count > $1.scalars.count : $0.id < $1.id }
        self.specials = specials
        var low: UInt64 = 0, high: UInt64 = 0
        var other = Set<Unicode.Scalar>()
        for first in specials.map({ $0.scalars[0] }) {
            switch first.value {
            case 0..<64: low |= 1 << UInt64(first.value)
            case 64..<128: high |= 1 << UInt64(first.value - 64)
            default: other.insert(first)
            }
        }
        self.specialFirstASCII = (low, high)
        self.specialFirstOther = other
    }

    /// Number of ids the model's embedding table must hold (highest id + 1).
    public var vocabularySize: Int { tokens.count }

    /// The token string of an id: nil outside the table, "" for an id no token uses.
    public func token(for id: Int32) -> String? {
        tokens.indices.contains(Int(id)) ? tokens[Int(id)] : nil
    }

    /// `[CLS] pieces [SEP]`, at most `maxTokens` ids in all.
    public func encode(_ text: String, maxTokens: Int, truncation: Truncation) throws -> TokenizedText {
        guard maxTokens >= 2 else { throw TokenizerError.invalidLimit(maxTokens: maxTokens, minimum: 2) }
        let room = maxTokens - 2
        // Truncating at the end only needs the first room + 1 pieces: stop there, whatever the text's length.
        var pieces = pieceIds(text, stopAfter: truncation == .end ? room + 1 : Int.max)
        var truncated = false
        if pieces.count > room {
            switch truncation {
            case .none: throw TokenizerError.tooLong(tokens: pieces.count + 2, limit: maxTokens)
            case .end: pieces.removeLast(pieces.count - room)
            case .start: pieces.removeFirst(pieces.count - room)
            }
            truncated = true
        }
        var ids = [Int32]()
        ids.reserveCapacity(pieces.count + 2)
        ids.append(clsId)
        ids.append(contentsOf: pieces)
        ids.append(sepId)
        return TokenizedText(ids: ids, truncated: truncated)
    }

    /// The word pieces of `text`, without [CLS]/[SEP] (HF `tokenizer.tokenize`).
    public func tokenize(_ text: String) -> [String] {
        pieceIds(text, stopAfter: .max).map { tokens[Int($0)] }
    }

    /// Number of pieces (without special tokens) — for usage accounting without building ids twice.
    public func countPieces(_ text: String) -> Int { pieceIds(text, stopAfter: .max).count }

    // MARK: Pipeline

    func pieceIds(_ text: String, stopAfter limit: Int) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        var segmentStart = 0
        var i = 0
        while i < scalars.count && ids.count < limit {
            if mayStartSpecial(scalars[i]), let special = special(at: i, in: scalars) {
                appendSegment(scalars[segmentStart..<i], to: &ids, limit: limit)
                if ids.count < limit { ids.append(special.id) }
                i += special.scalars.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        if segmentStart < scalars.count && ids.count < limit {
            appendSegment(scalars[segmentStart...], to: &ids, limit: limit)
        }
        return ids
    }

    @inline(__always)
    private func mayStartSpecial(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<64: return specialFirstASCII.low & (1 << UInt64(s.value)) != 0
        case 64..<128: return specialFirstASCII.high & (1 << UInt64(s.value - 64)) != 0
        default: return !specialFirstOther.isEmpty && specialFirstOther.contains(s)
        }
    }

    private func special(at i: Int, in scalars: [Unicode.Scalar]) -> (scalars: [Unicode.Scalar], id: Int32)? {
        for special in specials where i + special.scalars.count <= scalars.count {
            if scalars[i..<(i + special.scalars.count)].elementsEqual(special.scalars) { return special }
        }
        return nil
    }

    private func appendSegment(_ raw: ArraySlice<Unicode.Scalar>, to ids: inout [Int32], limit: Int) {
        guard !raw.isEmpty else { return }
        let normalized = normalizer.normalize(raw)
        var scratch = WordScratch()
        BertNormalizer.forEachWord(in: normalized) { word in
            if ids.count < limit { appendWordPieces(word, to: &ids, scratch: &scratch) }
        }
    }

    /// Per-segment buffers reused across words: the word's UTF-8 bytes and each scalar's byte offset, so a
    /// candidate piece is a byte range looked up as is.
    struct WordScratch {
        var utf8: [UInt8] = []
        var offsets: [Int] = []
    }

    /// Greedy longest-match-first (tokenizers/src/models/wordpiece/mod.rs `tokenize`).
    private func appendWordPieces(_ word: ArraySlice<Unicode.Scalar>, to ids: inout [Int32],
                                  scratch: inout WordScratch) {
        if word.count > maxInputCharsPerWord {
            ids.append(unkId)
            return
        }
        scratch.utf8.removeAll(keepingCapacity: true)
        scratch.offsets.removeAll(keepingCapacity: true)
        scratch.offsets.append(0)
        for s in word {
            UTF8.encode(s) { scratch.utf8.append($0) }
            scratch.offsets.append(scratch.utf8.count)
        }
        let offsets = scratch.offsets
        let mark = ids.count
        let covered: Bool = scratch.utf8.withUnsafeBufferPointer { bytes in
            let n = offsets.count - 1
            var start = 0
            while start < n {
                var end = min(n, start + maxPieceLength)
                var found: Int32?
                while start < end {
                    let candidate = UnsafeBufferPointer(rebasing: bytes[offsets[start]..<offsets[end]])
                    if let id = (start == 0 ? initial : continuation).lookup(candidate) {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else { return false }
                ids.append(id)
                start = end
            }
            return true
        }
        if !covered {
            // One uncoverable piece makes the whole word [UNK].
            ids.removeSubrange(mark...)
            ids.append(unkId)
        }
    }
}
