import Foundation
import Testing
@testable import Tokenizers

/// `UnigramTokenizer` against Hugging Face tokenizers on 237 tricky strings (models/siglip_tokenizer_fixtures.py:
/// accents, combining marks, CJK, Hangul, RTL scripts, emoji sequences, whitespace runs, special tokens in the text,
/// long strings, punctuation, numbers, and 100 seeded random mixtures), for two SentencePiece models converted to
/// tokenizer.json: SigLIP-like (32000 pieces, unk, "$A </s>", padded to 64) and a byte-fallback one.
struct UnigramGoldenTests {
    struct Case: Decodable { let text: String; let ids: [Int32] }
    struct Golden: Decodable { let siglip: [Case]; let bytefallback: [Case] }

    static let folder = Fixtures.root.appendingPathComponent("siglip")
    static let golden: Golden = {
        try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: folder.appendingPathComponent("tokenizer_golden.json")))
    }()

    func check(_ tokenizer: UnigramTokenizer, _ cases: [Case]) {
        #expect(cases.count >= 200)
        var failures = 0
        for item in cases {
            let ids = tokenizer.encode(item.text).ids
            if ids != item.ids {
                failures += 1
                Issue.record("\(item.text.debugDescription): \(ids) != \(item.ids)")
            }
        }
        #expect(failures == 0)
    }

    @Test func siglipMatchesTokenizers() throws {
        let tokenizer = try UnigramTokenizer.load(tokenizerJSON: Self.folder.appendingPathComponent("tokenizer.json"))
        #expect(tokenizer.vocabularySize == 32000)
        #expect(tokenizer.maxLength == 64 && tokenizer.padding?.length == 64 && tokenizer.padding?.id == 1)
        check(tokenizer, Self.golden.siglip)
    }

    /// spiece.model (the SentencePiece model the fixture tokenizer.json was converted from), read as transformers'
    /// SpmConverter converts it, with SigLIP's "</s>" and padding: the same ids.
    @Test func sentencePieceModelMatchesItsConversion() throws {
        let base = try UnigramTokenizer.load(sentencePieceModel: Self.folder.appendingPathComponent("spiece.model"))
        let eos = try #require(base.id(of: "</s>"))
        check(base.configured(suffix: [eos], maxLength: 64, padID: eos), Self.golden.siglip)
    }

    @Test func byteFallbackMatchesTokenizers() throws {
        let tokenizer = try UnigramTokenizer.load(tokenizerJSON: Self.folder.appendingPathComponent("bytefallback/tokenizer.json"))
        #expect(tokenizer.byteIDs != nil)
        check(tokenizer, Self.golden.bytefallback)
    }

    @Test func truncationKeepsTheEndToken() throws {
        let tokenizer = try UnigramTokenizer.load(tokenizerJSON: Self.folder.appendingPathComponent("tokenizer.json"))
        let long = tokenizer.encode(String(repeating: "word ", count: 100))
        #expect(long.truncated && long.ids.count == 64 && long.ids.last == 1)
        let short = tokenizer.encode("word")
        #expect(!short.truncated && short.ids.count == 64)
    }

    @Test func refusesWhatItDoesNotImplement() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unigram-refusal-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer.json")
        for (json, feature) in [
            (#"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#, "model.type BPE"),
            (#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0]]}, "pre_tokenizer": {"type": "ByteLevel"}}"#, "pre_tokenizer ByteLevel"),
            (#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0]]}, "normalizer": {"type": "BertNormalizer"}}"#, "normalizer BertNormalizer"),
            (#"{"model": {"type": "Unigram", "unk_id": null, "vocab": [["a", 0]]}}"#, "unk_id"),
        ] {
            try Data(json.utf8).write(to: url)
            #expect { try UnigramTokenizer.load(tokenizerJSON: url) } throws: { error in
                "\(error)".contains(feature)
            }
        }
        try Data([0x0A, 0xFF, 0xFF]).write(to: url)  // a length past the end
        #expect { try UnigramTokenizer.load(sentencePieceModel: url) } throws: { error in
            "\(error)".contains("not a SentencePiece model")
        }
    }
}
