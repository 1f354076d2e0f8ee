import Foundation
import Testing
import TestSupport
@testable import Encoders
import Media
import Tensor
import Tokenizers

/// SigLIP against transformers' SiglipModel with seeded weights (Tests/Fixtures/siglip, models/reference_siglip.py),
/// drawn by the same generator as CLIP's (`CLIPCheckpoint.seeded`) into a temporary folder. `SigLIPGoldenTests` uses
/// the toy configuration (2 layers, width 64: seconds); `SigLIPBaseGoldenTests` google/siglip-base-patch16-224's
/// (203M parameters), run when ROSETTA_CLIP_FULL=1 like CLIP's full-size test.
@Suite(.serialized) struct SigLIPGoldenTests {
    static let checkpoint = SigLIPCheckpoint(suffix: "_small")
    @Test func textTowerMatchesTransformers() throws { try Self.checkpoint.checkText() }
    @Test func imageTowerAndPatchTokensMatchTransformers() throws { try Self.checkpoint.checkImages() }
    @Test func logitScaleAndBias() throws { try Self.checkpoint.checkLogits() }
    @Test func preprocessingMatchesSiglipImageProcessor() throws { try Self.checkpoint.checkPreprocessing() }
    @Test func textCanonicalisationMatchesSiglipTokenizer() throws { try Self.checkpoint.checkSlowTokenizer() }
}

@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ROSETTA_CLIP_FULL"] == "1"))
struct SigLIPBaseGoldenTests {
    static let checkpoint = SigLIPCheckpoint(suffix: "")
    @Test func textTowerMatchesTransformers() throws { try Self.checkpoint.checkText() }
    @Test func imageTowerAndPatchTokensMatchTransformers() throws { try Self.checkpoint.checkImages() }
}

final class SigLIPCheckpoint: Sendable {
    static let fixtures = RepositoryPaths.fixtures.appendingPathComponent("siglip")
    static let minCosine = 0.9999

    let suffix: String
    let model: SigLIP
    let tokenizer: UnigramTokenizer

    init(suffix: String) {
        self.suffix = suffix
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rosetta-siglip\(suffix)-\(getpid())")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("model.safetensors")
        CLIPCheckpoint.writeSeededWeights(Self.fixtures.appendingPathComponent("tensors\(suffix).json"), to: weights)
        model = try! SigLIP(config: try! SigLIP.Config.load(from: Self.fixtures.appendingPathComponent("config\(suffix).json")),
                            weights: try! SafeTensors(path: weights.path))
        tokenizer = try! UnigramTokenizer.load(tokenizerJSON: Self.fixtures.appendingPathComponent("tokenizer.json"))
    }

    func golden() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("golden\(suffix).json"))) as! [String: Any]
    }

    func checkText() throws {
        for item in try golden()["texts"] as! [[String: Any]] {
            let text = item["text"] as! String
            let ids = tokenizer.encode(SigLIPText.canonical(text)).ids
            #expect(ids == (item["ids"] as! [Int]).map(Int32.init), "\(text)")
            let embedding = try model.encodeTexts([ids])[0]
            let c = cosine(embedding, (item["text_embeds"] as! [Double]).map(Float.init))
            print("SigLIP\(suffix) text '\(text)': cosine \(c)")
            #expect(c >= Self.minCosine, "\(text): cosine \(c)")
        }
    }

    func checkImages() throws {
        let pre = ImagePreprocessing(resize: 224, crop: 224, mean: LoadedSigLIP.siglipMean, std: LoadedSigLIP.siglipStd)
        for item in try golden()["images"] as! [[String: Any]] {
            let name = item["name"] as! String
            let raw = [UInt8](try Data(contentsOf: RepositoryPaths.fixtures.appendingPathComponent("images/pipeline/\(name).rgb")))
            let pixels = pre.normalized(RGBImage(width: 224, height: 224, pixels: raw))
            let out = try model.encodeImages(try Tensor(shape: [1, 224, 224, 3], values: pixels))[0]
            let c = cosine(out.embedding, (item["image_embeds"] as! [Double]).map(Float.init))
            print("SigLIP\(suffix) image \(name): cosine \(c)")
            #expect(c >= Self.minCosine, "\(name): cosine \(c)")
            #expect(out.patches.count == 196)
            for (p, expected) in (item["patch_embeds_head"] as! [[Double]]).enumerated() {
                let cp = cosine(out.patches[p], expected.map(Float.init))
                #expect(cp >= Self.minCosine, "\(name) patch \(p): cosine \(cp)")
            }
        }
    }

    func checkLogits() throws {
        let g = try golden()
        #expect(model.logitScale == Float(g["logit_scale"] as! Double))
        #expect(model.logitBias == Float(g["logit_bias"] as! Double))
        // σ(c·exp(2.6592) − 10): a cosine of 0.7 is even odds.
        let even = Float(10 / Foundation.exp(2.6592))
        #expect(abs(model.matchProbability(cosine: even) - 0.5) < 1e-5)
        #expect(model.matchProbability(cosine: 1) > 0.98 && model.matchProbability(cosine: 0) < 1e-4)
    }

    /// SiglipImageProcessorPil's pixel values (both sides bicubic to 224, no crop, mean = std = 0.5) on raw images;
    /// the streaming resize is also byte-equal to the two-pass one.
    func checkPreprocessing() throws {
        let g = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("golden.json"))) as! [String: Any]
        let pre = ImagePreprocessing(resize: 224, crop: 224, mean: LoadedSigLIP.siglipMean, std: LoadedSigLIP.siglipStd)
        for item in g["preprocess"] as! [[String: Any]] {
            let file = item["file"] as! String
            let size = file.split(separator: "_").last!.dropLast(4).split(separator: "x").map { Int($0)! }
            let raw = [UInt8](try Data(contentsOf: RepositoryPaths.fixtures.appendingPathComponent("images/resize/\(file)")))
            let image = RGBImage(width: size[0], height: size[1], pixels: raw)
            let squashed = ImageResize.bicubicStreaming(image, width: 224, height: 224)
            #expect(squashed == ImageResize.bicubic(image, width: 224, height: 224), "\(file)")
            let pixels = pre.normalized(squashed)
            let head = (item["pixels_head"] as! [Double]).map(Float.init)
            #expect(zip(pixels, head).allSatisfy { abs($0 - $1) < 1e-5 }, "\(file)")
            let sum = pixels.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - (item["sum"] as! Double)) < 1e-2, "\(file): sum \(sum)")
        }
    }

    /// Our canonicalisation + tokenizer.json equals transformers' slow SiglipTokenizer (sentencepiece itself) on the
    /// tricky strings, except where the two libraries differ by design: the slow tokenizer turns "</s>", "<pad>" and
    /// "<unk>" typed in the text into control tokens (Rosetta's canonicalisation removes their punctuation, as for
    /// any text), and sentencepiece normalises a decomposed Hangul syllable as one sequence where tokenizers'
    /// Precompiled works per grapheme (the tokenizer.json reference, which `UnigramGoldenTests` matches).
    func checkSlowTokenizer() throws {
        let g = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("tokenizer_golden.json"))) as! [String: Any]
        let known: Set<String> = ["<s> </s> <pad> <unk>", "hello</s>world", "</s>", "<unk>", "\u{1100}\u{1161}\u{11a8} jamo"]
        let cases = g["siglip_slow"] as! [[String: Any]]
        #expect(cases.count >= 130)
        for item in cases {
            let text = item["text"] as! String
            let ids = tokenizer.encode(SigLIPText.canonical(text)).ids
            let expected = (item["ids"] as! [Int]).map(Int32.init)
            #expect((ids == expected) != known.contains(text), "\(text.debugDescription): \(ids) vs \(expected)")
        }
    }
}
