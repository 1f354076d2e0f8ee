import Domain
import Foundation
import Synchronization
import Testing
@testable import Encoders
import Tensor

/// BERT against transformers.BertModel on the tiny random checkpoint (models/reference_tiny_bert.py).
@Suite struct BERTTests {
    struct Expected {
        let sequences: [[Int32]]
        let hidden: [[[Float]]]
        let mean: [[Float]]
        let cls: [[Float]]
    }

    static func load(threads: Int = 1) throws -> (BERT, Expected) {
        let config = try BERTConfig.load(from: Fixtures.tinyBERT.appendingPathComponent("config.json"))
        let weights = try SafeTensors(path: Fixtures.tinyBERT.appendingPathComponent("model.safetensors").path)
        let json = try Fixtures.json(Fixtures.tinyBERT.appendingPathComponent("expected.json")) as! [String: Any]
        let expected = Expected(
            sequences: (json["sequences"] as! [[Int]]).map { $0.map(Int32.init) },
            hidden: (json["hidden_states"] as! [[[Double]]]).map { $0.map { $0.map(Float.init) } },
            mean: (json["mean"] as! [[Double]]).map { $0.map(Float.init) },
            cls: (json["cls"] as! [[Double]]).map { $0.map(Float.init) })
        return (try BERT(config: config, weights: weights, threads: threads), expected)
    }

    @Test func matchesTransformersOneByOne() throws {
        let (model, expected) = try Self.load()
        for (ids, want) in zip(expected.sequences, expected.hidden) {
            let got = try model.forward(batch: [ids])[0]
            #expect(got.shape == [ids.count, 32])
            #expect(maxAbsDiff(got.toArray(), want.flatMap { $0 }) < 1e-4)
        }
    }

    @Test func mixedLengthBatchEqualsOneByOne() throws {
        let (model, expected) = try Self.load()
        let batch = try model.forward(batch: expected.sequences)
        #expect(batch.count == expected.sequences.count)
        for (i, ids) in expected.sequences.enumerated() {
            let alone = try model.forward(batch: [ids])[0]
            #expect(batch[i].shape == alone.shape)
            #expect(maxAbsDiff(batch[i].toArray(), alone.toArray()) < 1e-5)
            #expect(maxAbsDiff(batch[i].toArray(), expected.hidden[i].flatMap { $0 }) < 1e-4)
        }
        // Reversed order and duplicates: outputs follow their sequences.
        let reversed = try model.forward(batch: expected.sequences.reversed() + [expected.sequences[0]])
        #expect(maxAbsDiff(reversed.last!.toArray(), batch[0].toArray()) < 1e-5)
        #expect(maxAbsDiff(reversed[0].toArray(), batch.last!.toArray()) < 1e-5)
    }

    /// Threads: groups of sequences per worker for batches, split ops for one sequence — same numbers.
    @Test(arguments: [2, 3])
    func threadedForwardMatchesSingleThreaded(threads: Int) throws {
        let (single, expected) = try Self.load()
        let (threaded, _) = try Self.load(threads: threads)
        let reference = try single.forward(batch: expected.sequences)
        let batch = try threaded.forward(batch: expected.sequences)
        for (a, b) in zip(batch, reference) { #expect(maxAbsDiff(a.toArray(), b.toArray()) < 1e-5) }
        for (ids, b) in zip(expected.sequences, reference) {
            #expect(maxAbsDiff(try threaded.forward(batch: [ids])[0].toArray(), b.toArray()) < 1e-5)
        }
    }

    /// One model, many concurrent requests: each takes its own scratch, results are unchanged.
    @Test func concurrentForwardsAreIndependent() throws {
        let (model, expected) = try Self.load(threads: 2)
        let reference = try model.forward(batch: expected.sequences).map { $0.toArray() }
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let order = i % 2 == 0 ? Array(expected.sequences.indices) : expected.sequences.indices.reversed()
            guard let out = try? model.forward(batch: order.map { expected.sequences[$0] }) else {
                mismatches.withLock { $0 += 1 }
                return
            }
            for (j, t) in zip(order, out) where maxAbsDiff(t.toArray(), reference[j]) > 1e-5 {
                mismatches.withLock { $0 += 1 }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }

    @Test func poolingMatchesReference() throws {
        let (model, expected) = try Self.load()
        let hidden = try model.forward(batch: expected.sequences)
        for i in expected.sequences.indices {
            #expect(maxAbsDiff(try Pooling.mean.pool(hidden[i]), expected.mean[i]) < 1e-4)
            #expect(maxAbsDiff(try Pooling.cls.pool(hidden[i]), expected.cls[i]) < 1e-4)
        }
    }

    @Test func acceptsBertPrefixedKeys() throws {
        let (_, expected) = try Self.load()
        let original = try SafeTensors(path: Fixtures.tinyBERT.appendingPathComponent("model.safetensors").path)
        let prefixed = try Fixtures.readAll(original).map { ("bert." + $0.name, $0.shape, $0.values) }
        let config = try BERTConfig.load(from: Fixtures.tinyBERT.appendingPathComponent("config.json"))
        let model = try BERT(config: config, weights: try SafeTensors(path: try Fixtures.writeSafeTensors(prefixed)))
        let got = try model.forward(batch: [expected.sequences[1]])[0]
        #expect(maxAbsDiff(got.toArray(), expected.hidden[1].flatMap { $0 }) < 1e-4)
    }

    @Test func loadingIsStrictAndNamesTheTensor() throws {
        let config = try BERTConfig.load(from: Fixtures.tinyBERT.appendingPathComponent("config.json"))
        let all = try Fixtures.readAll(try SafeTensors(path: Fixtures.tinyBERT.appendingPathComponent("model.safetensors").path))

        let missing = try Fixtures.writeSafeTensors(all.filter { $0.name != "encoder.layer.1.output.dense.bias" })
        #expect(throws: EncoderError.missingTensor(file: missing, tensor: "encoder.layer.1.output.dense.bias")) {
            try BERT(config: config, weights: try SafeTensors(path: missing))
        }

        let extra = try Fixtures.writeSafeTensors(all + [("cls.predictions.bias", [100], [Float](repeating: 0, count: 100))])
        #expect(throws: EncoderError.unexpectedTensors(file: extra, expectedCount: all.count, actualCount: all.count + 1,
                                                        names: ["cls.predictions.bias"])) {
            try BERT(config: config, weights: try SafeTensors(path: extra))
        }

        let reshaped = try Fixtures.writeSafeTensors(all.map {
            $0.name == "encoder.layer.0.intermediate.dense.weight" ? ($0.name, [32, 64], $0.values) : $0
        })
        #expect(throws: EncoderError.shapeMismatch(file: reshaped, tensor: "encoder.layer.0.intermediate.dense.weight",
                                                    expected: [64, 32], actual: [32, 64])) {
            try BERT(config: config, weights: try SafeTensors(path: reshaped))
        }
    }

    @Test func refusesBadConfigAndBadInput() throws {
        let (model, _) = try Self.load()
        #expect(throws: EncoderError.tokenOutOfRange(index: 1, token: 100, vocabSize: 100)) {
            try model.forward(batch: [[2, 3], [2, 100, 3]])
        }
        #expect(throws: EncoderError.invalidSequence(index: 0, length: 33, maxLength: 32)) {
            try model.forward(batch: [[Int32](repeating: 5, count: 33)])
        }
        #expect(throws: EncoderError.invalidSequence(index: 0, length: 0, maxLength: 32)) {
            try model.forward(batch: [[]])
        }
        var config = model.config
        config.hiddenAct = "gelu_new"
        #expect(throws: EncoderError.invalidConfig(file: "config", detail: "hidden_act 'gelu_new' unsupported (only exact 'gelu')")) {
            try config.validate()
        }
    }
}
