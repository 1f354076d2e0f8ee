import Foundation
import Testing
import Domain
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

    /// 400 seeded random strings mixing scripts, controls, punctuation, specials and long words.
    @Test func miniLMRandomDifferential() throws {
        struct File: Decodable { let cases: [[Entry]] }
        enum Entry: Decodable {
            case text(String), ids([Int32])
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .ids(try c.decode([Int32].self)) }
            }
        }
        let data = try Data(contentsOf: Fixtures.root.appendingPathComponent("tokenizer/minilm-random.json"))
        let file = try JSONDecoder().decode(File.self, from: data)
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.miniLMVocab)
        #expect(file.cases.count == 400)
        for (n, pair) in file.cases.enumerated() {
            guard case let .text(text) = pair[0], case let .ids(ids) = pair[1] else {
                Issue.record("case \(n) is not [text, ids]")
                continue
            }
            let encoded = try tokenizer.encode(text, maxTokens: 100_000, truncation: .none)
            #expect(encoded.ids == ids, "case \(n): \(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test func tinyCasedFromTokenizerJSON() throws {
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.tinyCased)
        #expect(tokenizer.normalizer == BertNormalizer(stripAccents: false, lowercase: false))
        #expect(tokenizer.modelMaxLength == 64)
        try Self.check(tokenizer, try Fixtures.cases("tiny-cased"))
    }
}
