import Domain
import Foundation
import Testing
import TestSupport
@testable import Encoders
import Tensor
import Tokenizers

/// all-MiniLM-L6-v2 against sentence-transformers: Tests/Fixtures/all-minilm-l6-v2/golden.json (written by
/// models/reference) with the real weights in models/all-minilm-l6-v2/ (written by models/fetch).
/// Without the model folder these tests FAIL, unless ROSETTA_SKIP_MODEL_TESTS=1.
@Suite struct MiniLMGoldenTests {
    static let modelDir = RepositoryPaths.models.appendingPathComponent("all-minilm-l6-v2")
    static let goldenFile = Fixtures.fixtures.appendingPathComponent("all-minilm-l6-v2/golden.json")
    static let minCosine = 0.9999

    struct Golden {
        struct Item { let index: Int; let ids: [Int32]; let truncated: Bool; let embedding: [Float] }
        struct Instructed { let index: Int; let instruction: String; let text: String; let ids: [Int32]; let embedding: [Float] }
        let maxTokens: Int
        let items: [Item]
        let instructed: [Instructed]
    }

    /// The model and golden file, or nil when the model is absent and skipping was asked for.
    static func load(precision: Precision = .float32) throws -> (BERT, Golden)? {
        guard FileManager.default.fileExists(atPath: modelDir.appendingPathComponent("model.safetensors").path) else {
            if ProcessInfo.processInfo.environment["ROSETTA_SKIP_MODEL_TESTS"] == "1" { return nil }
            Issue.record("""
                \(modelDir.path) is missing: run `models/fetch` to install all-MiniLM-L6-v2 \
                (or set ROSETTA_SKIP_MODEL_TESTS=1 to skip the real-model tests)
                """)
            return nil
        }
        let json = try Fixtures.json(goldenFile) as! [String: Any]
        func floats(_ v: Any?) -> [Float] { (v as! [Double]).map(Float.init) }
        func ids(_ v: Any?) -> [Int32] { (v as! [Int]).map(Int32.init) }
        let golden = Golden(
            maxTokens: json["max_tokens"] as! Int,
            items: (json["items"] as! [[String: Any]]).map {
                .init(index: $0["index"] as! Int, ids: ids($0["ids"]), truncated: $0["truncated"] as! Bool,
                      embedding: floats($0["embedding"]))
            },
            instructed: (json["instructed"] as! [[String: Any]]).map {
                .init(index: $0["index"] as! Int, instruction: $0["instruction"] as! String, text: $0["text"] as! String,
                      ids: ids($0["ids"]), embedding: floats($0["embedding"]))
            })
        let config = try BERTConfig.load(from: modelDir.appendingPathComponent("config.json"))
        let weights = try SafeTensors(path: modelDir.appendingPathComponent("model.safetensors").path)
        return (try BERT(config: config, weights: weights, precision: precision), golden)
    }

    static func sentences() throws -> [String] {
        try String(contentsOf: Fixtures.fixtures.appendingPathComponent("sentences.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The encoder alone: golden ids in one mixed-length batch → mean pooling → L2 → cosine with the golden vector.
    @Test func encoderMatchesSentenceTransformers() throws {
        guard let (model, golden) = try Self.load() else { return }
        let hidden = try model.forward(batch: golden.items.map(\.ids))
        var worst = 1.0
        for (item, tokens) in zip(golden.items, hidden) {
            let vector = Ops.l2Normalized(try Pooling.mean.pool(tokens))
            let c = cosine(vector, item.embedding)
            worst = min(worst, c)
            #expect(c >= Self.minCosine, "sentence \(item.index): cosine \(c)")
        }
        print("all-MiniLM-L6-v2 encoder: \(golden.items.count) sentences, min cosine \(worst)")
    }

    /// bfloat16 products (`Precision`) stay within the cosine the issue allows reduced precision (0.999) of
    /// sentence-transformers' float32 vectors, on every golden sentence (bench/int8 predicted 0.99997).
    @Test(.enabled(if: Precision.bfloat16Supported, "the CPU has no AVX512-BF16"))
    func bfloat16EncoderStaysWithinCosine0999() throws {
        guard let (model, golden) = try Self.load(precision: .bfloat16) else { return }
        let hidden = try model.forward(batch: golden.items.map(\.ids))
        var worst = 1.0
        for (item, tokens) in zip(golden.items, hidden) {
            let c = cosine(Ops.l2Normalized(try Pooling.mean.pool(tokens)), item.embedding)
            worst = min(worst, c)
            #expect(c >= 0.999, "sentence \(item.index): cosine \(c)")
        }
        print("all-MiniLM-L6-v2 encoder, bfloat16: \(golden.items.count) sentences, min cosine \(worst)")
    }

    /// The whole text path: WordPiece tokenizer + BERT + pooling + normalisation, texts and instructed texts.
    @Test func textEmbedderMatchesSentenceTransformers() throws {
        guard let (model, golden) = try Self.load() else { return }
        let tokenizer = try WordPieceTokenizer.load(directory: Self.modelDir)
        let embedder = TextEmbedder(tokenizer: tokenizer, model: model, defaultPooling: .mean, normalize: true,
                                    maxTokens: golden.maxTokens)
        let sentences = try Self.sentences()
        let embeddings = try embedder.embed(golden.items.map { sentences[$0.index] })
        var worst = 1.0
        for (item, embedding) in zip(golden.items, embeddings) {
            let c = cosine(embedding.vector, item.embedding)
            worst = min(worst, c)
            #expect(c >= Self.minCosine, "sentence \(item.index): cosine \(c)")
            #expect(embedding.tokenCount == item.ids.count, "sentence \(item.index)")
            #expect(embedding.truncated == item.truncated, "sentence \(item.index)")
        }
        for item in golden.instructed {
            let prefix = item.instruction + ": "
            #expect(prefix + sentences[item.index] == item.text)
            let embedding = try embedder.embed([sentences[item.index]], prefix: prefix)[0]
            let c = cosine(embedding.vector, item.embedding)
            worst = min(worst, c)
            #expect(c >= Self.minCosine, "instructed \(item.index): cosine \(c)")
        }
        print("all-MiniLM-L6-v2 text path: \(golden.items.count + golden.instructed.count) texts, min cosine \(worst)")
    }
}
