import Foundation
import Testing
import Encoders
import Media

/// aiSFX in our engine vs the aisfx package (librosa front end + PyTorch EmbeddingNet; models/reference_aisfx.py):
/// the normalised log-mel spectrogram to 1e-4, and every 2.3 s block vector by cosine (≥ 0.9999) and relative
/// error. Needs models/aisfx (models/fetch); skipped when absent.
@Suite(.serialized) struct SoundEffectsGoldenTests {
    static let folder = AudioTestFixtures.root.appendingPathComponent("models/aisfx")
    static let available = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path)
    static let fixtures = AudioTestFixtures.root.appendingPathComponent("Tests/Fixtures/aisfx")

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

    @Test(.enabled(if: available)) func blockVectorsMatchPyTorch() throws {
        let entry = ModelManifest.Entry(id: "aisfx", architecture: .aisfx)
        let model = try LoadedSoundEffectsModel.load(entry, folder: Self.folder, threads: 2)
        let features = SoundEffectFeatures()
        for (name, clip) in try Self.golden() {
            let (values, frames) = features(try Self.samples(name))
            let blocks = try model.cnn.forward(values, frames: frames)
            let expected = (clip["blocks"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
            #expect(blocks.count == expected.count, "\(name)")
            for (i, (got, want)) in zip(blocks, expected).enumerated() {
                let cos = cosine(got, want)
                let relative = zip(got, want).map { abs($0 - $1) }.max()! / (want.map(abs).max() ?? 1)
                #expect(cos >= 0.9999 && relative < 1e-3, "\(name) block \(i): cosine \(cos), max relative error \(relative)")
                print("aisfx \(name) block \(i): cosine \(cos), max relative error \(relative)")
            }
        }
    }
}
