import Foundation
import Testing
import TestSupport
@testable import Media

@Suite struct WhisperFeaturesTests {
    @Test func fftMatchesTheNaiveDFT() {
        for n in [8, 12, 400] {
            let fft = FFT(count: n)
            let x = (0..<n).map { i in sin(Double(i) * 0.37) + 0.25 * cos(Double(i * i) * 0.01) }
            var scratch = FFT.Scratch(count: n)
            var power = [Double](repeating: 0, count: n / 2 + 1)
            x.withUnsafeBufferPointer { xp in power.withUnsafeMutableBufferPointer { fft.powerSpectrum(xp.baseAddress!, into: $0.baseAddress!, scratch: &scratch) } }
            for k in 0...(n / 2) {
                var re = 0.0, im = 0.0
                for j in 0..<n { re += x[j] * cos(-2 * .pi * Double(j * k) / Double(n)); im += x[j] * sin(-2 * .pi * Double(j * k) / Double(n)) }
                #expect(abs(power[k] - (re * re + im * im)) < 1e-8 * Double(n), "n \(n) k \(k)")
            }
        }
    }

    /// faster-whisper's FeatureExtractor on the committed clips: frame count, global max, and sample frames.
    @Test func matchesFasterWhisperFeatureExtractor() throws {
        let golden = try AudioFixtures.goldenJSON()
        let decoder = AudioDecoder(maxSeconds: 60)
        let features = WhisperFeatures()
        for clip in golden["clips"] as! [[String: Any]] {
            let file = clip["file"] as! String
            let samples = try decoder.decode(AudioFixtures.data(file), rate: 16_000)
            #expect(samples.count == clip["samples"] as! Int)
            let (values, _, content) = features(samples)
            let mel = clip["mel"] as! [String: Any]
            #expect(content == mel["frames"] as! Int, "\(file)")
            let window = features.window(values, contentFrames: content, index: 0)
            let top = window[0..<(content * 80)].max()!
            #expect(abs(top - (mel["max"] as! NSNumber).floatValue) < 1e-5, "\(file)")
            for (frame, expected) in mel["rows"] as! [String: [NSNumber]] {
                let t = Int(frame)!
                let row = window[(t * 80)..<((t + 1) * 80)]
                let worst = zip(row, expected.map(\.floatValue)).map { abs($0 - $1) }.max()!
                #expect(worst < 2e-4, "\(file) frame \(t): max |diff| \(worst)")
            }
        }
    }
}
