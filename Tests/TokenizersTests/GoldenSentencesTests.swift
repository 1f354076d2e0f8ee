import Foundation
import Testing
@testable import Tokenizers

/// The token ids sentence-transformers fed all-MiniLM-L6-v2 for the committed sentences (models/reference),
/// including prompted texts and truncation at the model's 256 tokens.
@Suite struct GoldenSentencesTests {
    struct Golden: Decodable {
        struct Item: Decodable { let index: Int; let ids: [Int32]; let truncated: Bool }
        struct Instructed: Decodable { let index: Int; let text: String; let ids: [Int32] }
        let max_tokens: Int
        let items: [Item]
        let instructed: [Instructed]
    }

    @Test func miniLMSentenceIds() throws {
        let golden = try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: Fixtures.miniLMVocab.appendingPathComponent("golden.json")))
        let text = try String(contentsOf: Fixtures.root.appendingPathComponent("sentences.txt"), encoding: .utf8)
        let sentences = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        let tokenizer = try WordPieceTokenizer.load(directory: Fixtures.miniLMVocab)
        #expect(golden.items.count == sentences.count)
        for item in golden.items {
            let encoded = try tokenizer.encode(sentences[item.index], maxTokens: golden.max_tokens, truncation: .end)
            #expect(encoded.ids == item.ids, "sentence \(item.index)")
            #expect(encoded.truncated == item.truncated, "sentence \(item.index)")
        }
        for item in golden.instructed {
            let encoded = try tokenizer.encode(item.text, maxTokens: golden.max_tokens, truncation: .end)
            #expect(encoded.ids == item.ids, "instructed \(item.index)")
        }
    }
}
