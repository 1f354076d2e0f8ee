import Foundation
import Testing
import TestSupport
@testable import Encoders
import Media
import Tensor

/// EfficientNet-Lite0 against PyTorch (efficientnet-lite-pytorch): Tests/Fixtures/images/efficientnet_lite0.json,
/// written by models/reference_vision.py, with the weights converted by models/fetch into models/efficientnet-lite0/.
/// Without the model folder these tests FAIL, unless ROSETTA_SKIP_MODEL_TESTS=1.
@Suite struct EfficientNetGoldenTests {
    static let images = RepositoryPaths.fixtures.appendingPathComponent("images")
    static let weights = RepositoryPaths.models.appendingPathComponent("efficientnet-lite0/model.safetensors")
    static let preprocessing = ImagePreprocessing(resize: 256, crop: 224, mean: [Float](repeating: 127.0 / 255, count: 3),
                                                  std: [Float](repeating: 128.0 / 255, count: 3))

    struct Golden { let logits: [Float]; let top1: String }

    static func load(precision: Precision = .float32) throws -> (EfficientNetLite, [String: Golden], [String])? {
        guard FileManager.default.fileExists(atPath: weights.path) else {
            if ProcessInfo.processInfo.environment["ROSETTA_SKIP_MODEL_TESTS"] == "1" { return nil }
            Issue.record("\(weights.path) is missing: run `models/fetch efficientnet-lite0` (or ROSETTA_SKIP_MODEL_TESTS=1)")
            return nil
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: images.appendingPathComponent("efficientnet_lite0.json"))) as! [String: Any]
        var golden: [String: Golden] = [:]
        for (name, value) in json["images"] as! [String: [String: Any]] {
            golden[name] = Golden(logits: (value["logits"] as! [Double]).map(Float.init),
                                  top1: (value["top5"] as! [[Any]])[0][0] as! String)
        }
        let labels = try JSONSerialization.jsonObject(with: Data(contentsOf: RepositoryPaths.models.appendingPathComponent("imagenet_labels.json"))) as! [String: Any]
        return (try EfficientNetLite(weights: try SafeTensors(path: weights.path), threads: 2, precision: precision), golden,
                labels["classes"] as! [String])
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
    }

    static func top1(_ logits: [Float]) -> Int { logits.indices.max { logits[$0] < logits[$1] }! }

    /// Logits of the exact PyTorch input (PIL's crop, committed) and their max relative error and cosine to PyTorch's.
    static func logits(_ model: EfficientNetLite, _ name: String, _ golden: Golden) throws -> (logits: [Float], error: Float, cosine: Double) {
        let crop = RGBImage(width: 224, height: 224, pixels: [UInt8](try Data(contentsOf: Self.images.appendingPathComponent("pipeline/\(name).rgb"))))
        let input = try Tensor(shape: [1, 224, 224, 3], values: Self.preprocessing.normalized(crop))
        let logits = try model.forward(input).logits.toArray(), reference = golden.logits
        return (logits, Self.relativeError(logits, reference), cosine(logits, reference))
    }

    /// The exact PyTorch input -> logits within 1e-3 relative.
    @Test(arguments: ["chelsea", "coffee", "rocket"])
    func logitsMatchPyTorch(name: String) throws {
        guard let (model, golden, _) = try Self.load() else { return }
        let (_, error, cosine) = try Self.logits(model, name, golden[name]!)
        print("EfficientNet-Lite0 \(name): max |Δlogit| / max |logit| = \(error), cosine \(cosine)")
        #expect(error < 1e-3, "\(name): relative error \(error)")
        #expect(cosine >= 0.9999, "\(name): cosine \(cosine)")
    }

    /// bfloat16 products (`Precision`): logits within cosine 0.999 of PyTorch's float32 ones, the same top-1.
    @Test(.enabled(if: Precision.bfloat16Supported, "the CPU has no AVX512-BF16"), arguments: ["chelsea", "coffee", "rocket"])
    func bfloat16LogitsStayWithinCosine0999(name: String) throws {
        guard let (model, golden, _) = try Self.load(precision: .bfloat16) else { return }
        let (logits, error, cosine) = try Self.logits(model, name, golden[name]!)
        let reference = golden[name]!.logits
        print("EfficientNet-Lite0 \(name), bfloat16: max |Δlogit| / max |logit| = \(error), cosine \(cosine)")
        #expect(cosine >= 0.999, "\(name): cosine \(cosine)")
        #expect(Self.top1(logits) == Self.top1(reference), "\(name)")
    }

    /// Our whole pipeline (decode, resize, crop, normalise; batched) -> the same top-1 class as PyTorch on every photo.
    @Test func top1OfEveryPhotoMatchesPyTorch() throws {
        guard let (model, golden, labels) = try Self.load() else { return }
        let names = golden.keys.sorted()
        var values: [Float] = []
        for name in names {
            let image = try ImageDecoder.decode(try Data(contentsOf: Self.images.appendingPathComponent("photos/\(name).jpg")), maxPixels: 1 << 22)
            values += Self.preprocessing(image)
        }
        let logits = try model.forward(try Tensor(shape: [names.count, 224, 224, 3], values: values)).logits
        for (row, name) in names.enumerated() {
            let ours = Array(logits.toArray()[(row * 1000)..<((row + 1) * 1000)])
            #expect(labels[Self.top1(ours)] == golden[name]!.top1, "\(name)")
            #expect(Self.relativeError(ours, golden[name]!.logits) < 0.05, "\(name)")
        }
        // The photos ImageNet has classes for.
        let top = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, labels[Self.top1(Array(logits.toArray()[($0 * 1000)..<(($0 + 1) * 1000)]))]) })
        #expect(top["coffee"] == "espresso")
        #expect(top["camera"] == "tripod")
        #expect(["tabby cat", "tiger cat", "Egyptian Mau"].contains(top["chelsea"]!))
    }

    /// Expansion and depthwise convolution band by band (one output row per band: every band reuses the rows
    /// the last one read, and the first and last bands carry the image's padding) equal the whole image at once,
    /// for a batch split by images and a single image split by pixels over three workers.
    @Test func bandsOfRowsEqualTheWholeImage() throws {
        guard FileManager.default.fileExists(atPath: Self.weights.path) else { return }
        var rng = SystemRandomNumberGenerator()
        let input = try Tensor(shape: [2, 224, 224, 3], values: (0..<(2 * 224 * 224 * 3)).map { _ in Float.random(in: -1...1, using: &rng) })
        let whole = try EfficientNetLite(weights: try SafeTensors(path: Self.weights.path), imageSize: 224, threads: 1,
                                         bandBytes: 1 << 30).forward(input).features.toArray()
        for threads in [1, 3] {
            let banded = try EfficientNetLite(weights: try SafeTensors(path: Self.weights.path), imageSize: 224,
                                              threads: threads, bandBytes: 1)
            #expect(banded.blocks.indices.allSatisfy { i in
                EfficientNetLite.bandRows(banded.blocks[i], EfficientNetLite.extents(imageSize: 224, blocks: banded.blocks)[i],
                                          bandBytes: 1, workers: threads).output == 1
            })
            for b in 0..<2 {
                let single = try banded.forward(try Tensor(shape: [1, 224, 224, 3], values: Array(input.toArray()[(b * 224 * 224 * 3)..<((b + 1) * 224 * 224 * 3)])))
                #expect(Self.relativeError(single.features.toArray(), Array(whole[(b * 1280)..<((b + 1) * 1280)])) < 1e-5, "image \(b), \(threads) workers")
            }
            #expect(Self.relativeError(try banded.forward(input).features.toArray(), whole) < 1e-5, "batch, \(threads) workers")
        }
    }

    @Test func loadingIsStrict() throws {
        guard FileManager.default.fileExists(atPath: Self.weights.path) else { return }
        let model = try EfficientNetLite(weights: try SafeTensors(path: Self.weights.path))
        #expect(model.blocks.count == 16 && model.numClasses == 1000 && model.featureSize == 1280)
        #expect(model.blocks.map(\.stride) == [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1])
        #expect(throws: EncoderError.self) { try model.forward(Tensor(zeros: [1, 100, 100, 3])) }
    }
}
