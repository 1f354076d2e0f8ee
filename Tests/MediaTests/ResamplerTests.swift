import Foundation
import Testing
import TestSupport
@testable import Media

@Suite struct ResamplerTests {
    /// scipy.signal.resample_poly on a chirp (models/reference_whisper.py), sample by sample.
    @Test func matchesScipyResamplePoly() throws {
        let golden = try AudioFixtures.goldenJSON()
        let cases = golden["resample"] as! [[String: Any]]
        #expect(cases.count == 4)
        for c in cases {
            let from = c["from"] as! Int, to = c["to"] as! Int, count = c["count"] as! Int
            let expected = (c["output"] as! [NSNumber]).map(\.floatValue)
            let y = Resampler(from: from, to: to).process(AudioFixtures.chirp(rate: from, count: count))
            #expect(y.count == expected.count, "\(from) -> \(to)")
            let worst = zip(y, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 2e-6, "\(from) -> \(to): max |diff| \(worst)")
        }
    }

    @Test func sameRateIsIdentity() {
        let x: [Float] = [1, 2, 3]
        #expect(Resampler(from: 16_000, to: 16_000).process(x) == x)
    }

    /// A tone above the output Nyquist rate is removed (band-limited), one below passes with unit gain.
    @Test func isBandLimited() {
        let rate = 48_000
        func tone(_ f: Double) -> [Float] { (0..<rate).map { Float(sin(2 * Double.pi * f * Double($0) / Double(rate))) } }
        func rms(_ x: [Float]) -> Double { (x[2_000..<(x.count - 2_000)].map { Double($0 * $0) }.reduce(0, +) / Double(x.count - 4_000)).squareRoot() }
        let r = Resampler(from: rate, to: 16_000)
        #expect(abs(rms(r.process(tone(1_000))) - 0.7071) < 0.01)
        #expect(rms(r.process(tone(12_000))) < 0.001)
    }
}
