import Foundation
import Testing
import TestSupport
import Encoders
import Media
import Tensor

/// aiSFX in our engine vs the aisfx package (librosa front end + PyTorch EmbeddingNet; models/reference_aisfx.py):
/// the normalised log-mel spectrogram to 1e-4, and every 2.3 s block vector by cosine (≥ 0.9999) and relative
/// error. Needs models/aisfx (models/fetch); skipped when absent.
@Suite(.serialized) struct SoundEffectsGoldenTests {
    static let folder = RepositoryPaths.models.appendingPathComponent("aisfx")
    static let available = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path)
    static let fixtures = RepositoryPaths.fixtures.appendingPathComponent("aisfx")

    static func golden() throws -> [String: [String: Any]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("golden.json"))) as! [String: [String: Any]]
    }

    static func samples(_ name: String) throws -> [Float] {
        let (samples, rate) = try AudioDecoder(maxSeconds: 60).decodeMono(Data(contentsOf: fixtures.appendingPathComponent("\(name).flac")))
        #expect(rate == SoundEffectFeatures.sampleRate)
        return samples
    }

    @Test func frontEndMatchesLibrosa() throws {
        let features = SoundEffectFeatures()
        for (name, clip) in try Self.golden() {
            let (values, frames) = features(try Self.samples(name))
            #expect(frames == clip["frames"] as! Int, "\(name)")
            let expected = (clip["spectrogram"] as! [[NSNumber]]).flatMap { $0.map(\.floatValue) }
            let worst = zip(values, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(name): max |Δ| \(worst)")
            print("aisfx front end \(name): \(frames) frames, max |Δ| vs librosa \(worst)")
        }
    }

    @Test func blockStartsFollowAisfxBlocking() {
        #expect(SoundEffectsCNN.blockStarts(frames: 44) == [0])     // shorter than a block: one, zero-padded
        #expect(SoundEffectsCNN.blockStarts(frames: 100) == [0])
        #expect(SoundEffectsCNN.blockStarts(frames: 130) == [0])    // the partial second block is dropped
        #expect(SoundEffectsCNN.blockStarts(frames: 150) == [0, 50])
        #expect(SoundEffectsCNN.blockStarts(frames: 173) == [0, 50])
    }

    /// Every block vector of every golden clip against aisfx's: (cosine, max relative error).
    static func blockAgreement(precision: Precision) throws -> [(clip: String, block: Int, cosine: Double, relative: Float)] {
        let entry = ModelManifest.Entry(id: "aisfx", architecture: .aisfx)
        let model = try LoadedSoundEffectsModel.load(entry, folder: Self.folder, options: LoadOptions(threads: 2, precision: precision))
        let features = SoundEffectFeatures()
        var results: [(clip: String, block: Int, cosine: Double, relative: Float)] = []
        for (name, clip) in try Self.golden() {
            let (values, frames) = features(try Self.samples(name))
            let blocks = try model.cnn.forward(values, frames: frames)
            let expected = (clip["blocks"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
            #expect(blocks.count == expected.count, "\(name)")
            for (i, (got, want)) in zip(blocks, expected).enumerated() {
                let relative = zip(got, want).map { abs($0 - $1) }.max()! / (want.map(abs).max() ?? 1)
                results.append((name, i, cosine(got, want), relative))
            }
        }
        return results
    }

    @Test(.enabled(if: available)) func blockVectorsMatchPyTorch() throws {
        for r in try Self.blockAgreement(precision: .float32) {
            #expect(r.cosine >= 0.9999 && r.relative < 1e-3, "\(r.clip) block \(r.block): cosine \(r.cosine), max relative error \(r.relative)")
            print("aisfx \(r.clip) block \(r.block): cosine \(r.cosine), max relative error \(r.relative)")
        }
    }

    /// bfloat16 products (`Precision`): every block vector within cosine 0.999 of aisfx's float32 one.
    @Test(.enabled(if: available && Precision.bfloat16Supported)) func bfloat16BlockVectorsStayWithinCosine0999() throws {
        let results = try Self.blockAgreement(precision: .bfloat16)
        for r in results { #expect(r.cosine >= 0.999, "\(r.clip) block \(r.block): cosine \(r.cosine)") }
        print("aisfx, bfloat16: \(results.count) blocks, min cosine \(results.map(\.cosine).min() ?? 0)")
    }
}
