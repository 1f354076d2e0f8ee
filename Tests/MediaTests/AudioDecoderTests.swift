import Foundation
import Testing
import TestSupport
@testable import Media

@Suite struct AudioDecoderTests {
    let decoder = AudioDecoder(maxSeconds: 600)

    @Test func decodesFlacOggAndWavOfTheSameClip() throws {
        let flac = try decoder.decodeMono(AudioFixtures.data("golden/dog-en-us.flac"))
        let ogg = try decoder.decodeMono(AudioFixtures.data("speech/dog-en-us.ogg"))
        let wav = try decoder.decodeMono(AudioFixtures.data("golden/dog-en-us-22k.wav"))
        #expect(flac.rate == 16_000 && ogg.rate == 16_000 && wav.rate == 22_050)
        #expect(flac.samples.count == 34_549)
        #expect(abs(ogg.samples.count - flac.samples.count) < 2_000)
        // Vorbis is lossy: same signal, small error.
        let n = min(ogg.samples.count, flac.samples.count)
        let err = zip(ogg.samples[..<n], flac.samples[..<n]).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +)
        let energy = flac.samples.map { Double($0 * $0) }.reduce(0, +)
        #expect(err / energy < 0.05)
    }

    @Test func downmixesStereoByAveraging() throws {
        var interleaved: [Float] = []
        for i in 0..<1_000 { interleaved += [Float(i % 100) / 200, 0] }
        let data = AudioFixtures.wav(interleaved, rate: 16_000, channels: 2)
        let (mono, rate) = try decoder.decodeMono(data)
        #expect(rate == 16_000 && mono.count == 1_000)
        #expect(abs(mono[50] - Float(50) / 400) < 1e-3)
    }

    @Test func resamplesToTheRequestedRate() throws {
        let samples = try decoder.decode(AudioFixtures.data("golden/dog-en-us-22k.wav"), rate: 16_000)
        let native = try decoder.decodeMono(AudioFixtures.data("golden/dog-en-us-22k.wav")).samples
        #expect(samples.count == (native.count * 320 + 440) / 441)
    }

    @Test func garbageIsUnreadable() {
        #expect(throws: AudioError.self) { try decoder.decodeMono(Data("definitely not audio".utf8)) }
        #expect(throws: AudioError.self) { try decoder.decodeMono(Data(repeating: 0, count: 4096)) }
    }

    @Test func truncatedFilesAreRefused() throws {
        let flac = try AudioFixtures.data("golden/dog-en-us.flac")
        #expect(throws: AudioError.self) { try decoder.decodeMono(flac.prefix(flac.count / 2)) }
        let wav = AudioFixtures.wav([Float](repeating: 0.1, count: 16_000), rate: 16_000)
        #expect(throws: AudioError.self) { try decoder.decodeMono(wav.prefix(44 + 10_000)) }
        #expect(throws: AudioError.self) { try decoder.decodeMono(wav.prefix(20)) }
    }

    @Test func overLongAudioIsRefusedFromTheHeader() throws {
        let short = AudioDecoder(maxSeconds: 1)
        let wav = AudioFixtures.wav([Float](repeating: 0.1, count: 32_000), rate: 16_000)
        #expect(throws: AudioError.tooLong(seconds: 2, limit: 1)) { try short.decodeMono(wav) }
    }

    @Test func sampleRateOutsideTheRangeIsRefused() throws {
        let wav = AudioFixtures.wav([Float](repeating: 0.1, count: 100), rate: 1_000)
        #expect(throws: AudioError.unsupportedSampleRate(1_000, range: 4_000...192_000)) { try decoder.decodeMono(wav) }
    }
}
