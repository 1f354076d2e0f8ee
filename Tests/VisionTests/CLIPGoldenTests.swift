import Foundation
import Testing
import TestSupport
@testable import Encoders
import Media
import Tensor
import Tokenizers

/// CLIP against transformers' CLIPModel with seeded weights (Tests/Fixtures/clip, models/reference_clip.py). The
/// weights are not committed: the tests draw them from the same counter-based generator (splitmix64 per element,
/// see reference_clip.py) into a temporary folder. `CLIPGoldenTests` uses the toy configuration (2 layers, seconds);
/// `CLIPViTB32GoldenTests` the real ViT-B/32 configuration (151M parameters: minutes in a debug build), run when
/// ROSETTA_CLIP_FULL=1.
@Suite(.serialized) struct CLIPGoldenTests {
    static let checkpoint = CLIPCheckpoint(suffix: "_small")
    @Test func tokenizerMatchesOpenAI() throws { try Self.checkpoint.checkTokenizer() }
    @Test func textTowerMatchesTransformers() throws { try Self.checkpoint.checkText() }
    @Test func imageTowerAndPatchTokensMatchTransformers() throws { try Self.checkpoint.checkImages() }
}

@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ROSETTA_CLIP_FULL"] == "1"))
struct CLIPViTB32GoldenTests {
    static let checkpoint = CLIPCheckpoint(suffix: "")
    @Test func textTowerMatchesTransformers() throws { try Self.checkpoint.checkText() }
    @Test func imageTowerAndPatchTokensMatchTransformers() throws { try Self.checkpoint.checkImages() }
}

final class CLIPCheckpoint: Sendable {
    static let fixtures = RepositoryPaths.fixtures.appendingPathComponent("clip")
    static let minCosine = 0.9999

    let suffix: String
    init(suffix: String) { self.suffix = suffix }

    func golden() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("golden\(suffix).json"))) as! [String: Any]
    }

    static func uniform(_ k: UInt64, _ i: UInt64) -> Float {
        var z = (k << 32) &+ i &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(Double(z >> 40) / Double(1 << 24) * 2 - 1)
    }

    /// models/seeded_weights.py's `seeded_value`, element by element.
    static func seeded(_ name: String, _ shape: [Int], _ k: Int) -> [Float] {
        let n = shape.reduce(1, *)
        if name == "logit_scale" { return [Float](repeating: 2.6592, count: n) }
        if name == "logit_bias" { return [Float](repeating: -10, count: n) }
        let isNormWeight = (name.contains("layer_norm") || name.contains("layernorm") || name.contains("layrnorm")) && name.hasSuffix(".weight")
        let fanIn = shape.count == 2 ? shape[1] : shape.dropFirst().reduce(1, *)
        let invSqrtFanIn = 1 / Float(Double(fanIn).squareRoot())
        let (scale, shift): (Float, Float) = isNormWeight ? (0.1, 1) : name.hasSuffix(".bias") || name.hasSuffix("_bias") ? (0.02, 0)
            : name.contains("embedding") ? (0.1, 0) : (invSqrtFanIn, 0)
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = shift + scale * uniform(UInt64(k), UInt64(i)) }
        }
        return out
    }

    /// The checkpoint folder (config.json, merges.txt, model.safetensors), written once per test run.
    /// Written on first use (lazy stored properties are not Sendable-safe: a lock-free once via a static cache).
    var folder: URL { Self.cache.folder(suffix) }
    var model: CLIP { Self.cache.model(suffix) }
    static let cache = Cache()

    final class Cache: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var folders: [String: URL] = [:]
        var models: [String: CLIP] = [:]
        func folder(_ suffix: String) -> URL {
            lock.lock(); defer { lock.unlock() }
            if let f = folders[suffix] { return f }
            let f = CLIPCheckpoint.writeFolder(suffix)
            folders[suffix] = f
            return f
        }
        func model(_ suffix: String) -> CLIP {
            let dir = folder(suffix)
            lock.lock(); defer { lock.unlock() }
            if let m = models[suffix] { return m }
            let m = try! CLIP(config: try! CLIP.Config.load(from: dir.appendingPathComponent("config.json")),
                              weights: try! SafeTensors(path: dir.appendingPathComponent("model.safetensors").path))
            models[suffix] = m
            return m
        }
    }

    static func writeFolder(_ suffix: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rosetta-clip\(suffix)-\(ProcessInfo.processInfo.processIdentifier)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? FileManager.default.copyItem(at: fixtures.appendingPathComponent("config\(suffix).json"), to: dir.appendingPathComponent("config.json"))
        try? FileManager.default.copyItem(at: fixtures.appendingPathComponent("merges.txt"), to: dir.appendingPathComponent("merges.txt"))
        writeSeededWeights(fixtures.appendingPathComponent("tensors\(suffix).json"), to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    /// model.safetensors with the seeded value of every tensor of a tensors.json ([name, shape] in generator order).
    static func writeSeededWeights(_ tensorsJSON: URL, to url: URL) {
        let list = try! JSONSerialization.jsonObject(with: Data(contentsOf: tensorsJSON)) as! [[Any]]
        var header: [String: Any] = [:]
        var offset = 0
        for entry in list {
            let (name, shape) = (entry[0] as! String, entry[1] as! [Int])
            let bytes = 4 * shape.reduce(1, *)
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var headerBytes = Array(try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try! FileHandle(forWritingTo: url)
        var length = UInt64(headerBytes.count).littleEndian
        handle.write(Data(bytes: &length, count: 8))
        handle.write(Data(headerBytes))
        for (k, entry) in list.enumerated() {
            let values = seeded(entry[0] as! String, entry[1] as! [Int], k)
            handle.write(values.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        try! handle.close()
    }

    func checkTokenizer() throws {
        let tokenizer = try CLIPTokenizer.load(directory: Self.fixtures)
        for item in try golden()["tokens"] as! [[String: Any]] {
            let text = item["text"] as! String
            let expected = (item["ids"] as! [Int]).map(Int32.init)
            #expect(tokenizer.encode(text).ids == expected, "\(text)")
        }
    }

    func checkText() throws {
        let tokenizer = try CLIPTokenizer.load(directory: folder)
        for item in try golden()["texts"] as! [[String: Any]] {
            let ids = tokenizer.encode(item["text"] as! String).ids
            #expect(ids == (item["ids"] as! [Int]).map(Int32.init))
            let embedding = try model.encodeTexts([ids])[0]
            let c = cosine(embedding, (item["text_embeds"] as! [Double]).map(Float.init))
            print("CLIP\(suffix) text '\(item["text"]!)': cosine \(c)")
            #expect(c >= Self.minCosine, "\(item["text"]!): cosine \(c)")
        }
    }

    func checkImages() throws {
        let mean: [Float] = [0.48145466, 0.4578275, 0.40821073], std: [Float] = [0.26862954, 0.26130258, 0.27577711]
        let pre = ImagePreprocessing(resize: 224, crop: 224, mean: mean, std: std)
        for item in try golden()["images"] as! [[String: Any]] {
            let name = item["name"] as! String
            let raw = [UInt8](try Data(contentsOf: RepositoryPaths.fixtures.appendingPathComponent("images/pipeline/\(name).rgb")))
            let pixels = pre.normalized(RGBImage(width: 224, height: 224, pixels: raw))
            let out = try model.encodeImages(try Tensor(shape: [1, 224, 224, 3], values: pixels))[0]
            let c = cosine(out.embedding, (item["image_embeds"] as! [Double]).map(Float.init))
            print("CLIP\(suffix) image \(name): cosine \(c)")
            #expect(c >= Self.minCosine, "\(name): cosine \(c)")
            #expect(out.patches.count == 49)
            for (p, expected) in (item["patch_embeds_head"] as! [[Double]]).enumerated() {
                let cp = cosine(out.patches[p], expected.map(Float.init))
                #expect(cp >= Self.minCosine, "\(name) patch \(p): cosine \(cp)")
            }
        }
    }
}
