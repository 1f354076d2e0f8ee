import Foundation
import Testing
@testable import Tokenizers

/// Token ids against HF BertTokenizerFast (fixtures written by models/tokenizer_fixtures.py).
@Suite struct WordPieceGoldenTests {
    static func check(_ tokenizer: WordPieceTokenizer, _ file: Fixtures.File) throws {
        for c in file.cases {
            let encoded = try tokenizer.encode(c.text, maxTokens: 100_000, truncation: .none)
            #expect(encoded.ids == c.ids, "\(file.model)/\(c.name)")
            #expect(!encoded.truncated)
            #expect(tokenizer.tokenize(c.text) == c.tokens, "\(file.model)/\(c.name)")
        }
        for t in file.truncation {
            let direction: Truncation = t.direction == "end" ? .end : .start
            let encoded = try tokenizer.encode(t.text, maxTokens: t.max_tokens, truncation: direction)
            #expect(encoded.ids == t.ids, "\(file.model)/\(t.name)")
            let full = try tokenizer.encode(t.text, maxTokens: 100_000, truncation: .none)
            #expect(encoded.truncated == (full.ids.count > t.max_tokens), "\(file.model)/\(t.name)")
        }
    }

    @Test func miniLMFromVocabTxt() throws {
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.miniLMVocab)
        #expect(tokenizer.vocabularySize == 30522)
        #expect(tokenizer.modelMaxLength == 512)
        #expect((tokenizer.clsId, tokenizer.sepId, tokenizer.unkId) == (101, 102, 100))
        try Self.check(tokenizer, try Fixtures.cases("minilm"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(
        atPath: Fixtures.fetchedMiniLM.appendingPathComponent("tokenizer.json").path)))
    func miniLMFromFetchedTokenizerJSON() throws {
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.fetchedMiniLM)
        #expect(tokenizer.vocabularySize == 30522)
        try Self.check(tokenizer, try Fixtures.cases("minilm"))
    }

    @Test func tinyCasedFromTokenizerJSON() throws {
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.tinyCased)
        #expect(tokenizer.normalizer == BertNormalizer(stripAccents: false, lowercase: false))
        #expect(tokenizer.modelMaxLength == 64)
        try Self.check(tokenizer, try Fixtures.cases("tiny-cased"))
    }
}
