import Foundation
import Testing
import TestSupport
import Encoders
import Media
import Tensor

/// Whisper tiny.en in our engine vs CTranslate2 on the same model.bin (models/reference_whisper.py):
/// encoder states by cosine, greedy tokens and text exactly, no-speech probability to 1e-3.
/// Needs models/whisper-tiny-en (models/fetch); skipped when absent.
@Suite(.serialized) struct WhisperGoldenTests {
    static let available = WhisperModel.available
    static var model: LoadedSpeechModel? { try? WhisperModel.loaded.get() }

    @Test(.enabled(if: available)) func loadsTheTinyEnglishModel() throws {
        _ = try WhisperModel.loaded.get()
        let c = try #require(Self.model).whisper.config
        #expect(c == Whisper.Config(nMels: 80, dModel: 384, nHeads: 6, nEncoderLayers: 4, nDecoderLayers: 4,
                                    audioContext: 1500, textContext: 448, vocabSize: 51864))
    }

    @Test(.enabled(if: available)) func matchesCTranslate2() throws {
        let model = try #require(Self.model)
        let golden = try AudioFixtures.goldenJSON()
        let features = WhisperFeatures()
        let decoder = AudioDecoder(maxSeconds: 60)
        for clip in golden["clips"] as! [[String: Any]] {
            let file = clip["file"] as! String
            let samples = try decoder.decode(AudioFixtures.data(file), rate: 16_000)
            let (values, _, content) = features(samples)
            let states = try model.whisper.encode(features.window(values, contentFrames: content, index: 0))
            let encoder = clip["encoder"] as! [String: Any]
            for (row, expected) in encoder["rows"] as! [String: [NSNumber]] {
                let r = Int(row)!
                let got = try states.rows(r..<(r + 1)).toArray()
                let cos = cosine(got, expected.map(\.floatValue))
                #expect(cos >= 0.9999, "\(file) encoder row \(r): cosine \(cos)")
            }
            let mean = try Ops.meanRows(states)
            #expect(cosine(mean, (encoder["mean"] as! [NSNumber]).map(\.floatValue)) >= 0.9999, "\(file) mean")
            let result = try model.decoder.decode(states, options: WhisperDecoder.Options(beamSize: 1, timestamps: false))
            #expect(result.tokens == clip["tokens"] as! [Int], "\(file): \(result.text) vs \(clip["text"]!)")
            #expect(result.text == clip["text"] as! String)
            let p = (clip["no_speech_prob"] as! NSNumber).floatValue
            #expect(abs(result.noSpeechProbability - p) < 2e-3, "\(file) no-speech \(result.noSpeechProbability) vs \(p)")
        }
    }
}
