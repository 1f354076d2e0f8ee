import Testing
@testable import Encoders

/// The model-free pieces of Whisper's beam search and sampling (WhisperDecoder+Search.swift).
@Suite struct WhisperSearchTests {
    @Test func candidatesKeepTheBestInOrder() {
        var top = WhisperDecoder.Candidates(capacity: 3)
        for (i, score) in [Float(-3), -1, -5, -0.5, -2, -4].enumerated() { top.insert(score: score, beam: i % 2, token: i) }
        #expect(top.sorted.map(\.token) == [3, 1, 4])
        #expect(top.sorted.map(\.score) == [-0.5, -1, -2])
    }

    @Test func samplingIsSeededAndFollowsTheTemperature() {
        let logProbabilities: [Float] = [-0.1, -3, -.infinity, -2.5]
        func draws(seed: UInt64, temperature: Double) -> [Int] {
            var generator = SplitMix64(seed: seed)
            return (0..<200).map { _ in WhisperDecoder.draw(logProbabilities, temperature: temperature, using: &generator) }
        }
        #expect(draws(seed: 7, temperature: 1) == draws(seed: 7, temperature: 1))
        #expect(!draws(seed: 7, temperature: 1).contains(2))
        // Near temperature 0 the most probable token; at 1 the others too, in proportion (p = 0.90, 0.05, 0.08).
        #expect(Set(draws(seed: 1, temperature: 0.01)) == [0])
        let counts = draws(seed: 3, temperature: 1).reduce(into: [0, 0, 0, 0]) { $0[$1] += 1 }
        #expect(counts[0] > 150 && counts[1] > 0 && counts[3] > 0)
        // Nothing allowed: the arg-max instead of a draw from an empty distribution.
        var generator = SplitMix64(seed: 0)
        #expect(WhisperDecoder.draw([-.infinity, -.infinity], temperature: 1, using: &generator) == 0)
    }
}
