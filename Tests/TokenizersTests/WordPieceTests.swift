import Foundation
import Testing
import Domain
@testable import Tokenizers

/// Behaviour that is ours rather than the reference's: limits, errors, loading failures.
@Suite struct WordPieceTests {
    static let vocab: [String: Int32] = [
        "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "a": 4, "b": 5, "##b": 6, "ab": 7, "##c": 8, ",": 9,
    ]
    static func tiny() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: vocab, specialTokens: ["[CLS]": 2, "[SEP]": 3])
    }

    @Test func greedyLongestMatchFirst() throws {
        let t = try Self.tiny()
        #expect(t.tokenize("abc a,b") == ["ab", "##c", "a", ",", "b"])
        #expect(t.tokenize("abd") == ["[UNK]"])
        #expect(try t.encode("", maxTokens: 2, truncation: .none) == TokenizedText(ids: [2, 3], truncated: false))
    }

    @Test func noneThrowsTooLongWithTheCount() throws {
        let t = try Self.tiny()
        #expect(throws: TokenizerError.tooLong(tokens: 6, limit: 5)) {
            try t.encode("a b a b", maxTokens: 5, truncation: .none)
        }
        #expect(try t.encode("a b a", maxTokens: 5, truncation: .none).ids == [2, 4, 5, 4, 3])
    }

    @Test func truncationKeepsSpecialTokens() throws {
        let t = try Self.tiny()
        #expect(try t.encode("a b a b", maxTokens: 4, truncation: .end) == TokenizedText(ids: [2, 4, 5, 3], truncated: true))
        #expect(try t.encode("a b a ab", maxTokens: 4, truncation: .start) == TokenizedText(ids: [2, 4, 7, 3], truncated: true))
        #expect(try t.encode("abc abc", maxTokens: 3, truncation: .end).ids == [2, 7, 3])
    }

    @Test func rejectsLimitsBelowTheSpecialTokens() throws {
        #expect(throws: TokenizerError.invalidLimit(maxTokens: 1, minimum: 2)) {
            try Self.tiny().encode("a", maxTokens: 1, truncation: .end)
        }
    }

    @Test func endTruncationStopsEarlyOnHugeInput() throws {
        let t = try WordPieceTokenizer.load(directory: Fixtures.miniLMVocab)
        let huge = String(repeating: "the quick brown fox jumps over the lazy dog ", count: 20_000)
        let start = ContinuousClock.now
        let encoded = try t.encode(huge, maxTokens: 256, truncation: .end)
        #expect(encoded.ids.count == 256 && encoded.truncated)
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func missingSpecialTokenIsNamed() {
        #expect(throws: TokenizerError.missingToken("[CLS]")) {
            try WordPieceTokenizer(vocabulary: ["[UNK]": 0, "[SEP]": 1])
        }
    }

    @Test func missingFilesNamesTheFolder() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("no-tokenizer-\(UUID())")
        #expect(throws: TokenizerError.missingFiles(directory: dir.path)) {
            try WordPieceTokenizer.load(directory: dir)
        }
    }

    @Test func unsupportedTokenizerJSONIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"model": {"type": "BPE", "vocab": {}}}"#.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect(throws: TokenizerError.unsupported(file: "tokenizer.json", feature: "model.type BPE")) {
            try WordPieceTokenizer.load(directory: dir)
        }
    }

    /// Not a pass/fail check: prints throughput so regressions are visible in test logs.
    @Test func throughput() throws {
        let t = try WordPieceTokenizer.load(directory: Fixtures.miniLMVocab)
        let sentences = try Fixtures.cases("minilm").cases.map(\.text)
        let start = ContinuousClock.now
        var pieces = 0
        var bytes = 0
        for _ in 0..<20 {
            for s in sentences {
                pieces += try t.encode(s, maxTokens: 100_000, truncation: .none).ids.count
                bytes += s.utf8.count
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let mbps = (Double(bytes) / seconds / 1e6 * 100).rounded() / 100
        print("WordPiece throughput: \(mbps) MB/s, \(Int(Double(pieces) / seconds)) tokens/s")
    }
}
