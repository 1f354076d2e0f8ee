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

/// MP3's header length is an estimate (issue 24, item 6): complete files of every layout decode, to the clip
/// the golden FLAC holds (Tests/Fixtures/audio/mp3, made from it by models/audio_clips.py --mp3).
@Suite struct MP3DecodingTests {
    let decoder = AudioDecoder(maxSeconds: 600)
    static let variants = ["cbr", "cbr-info", "vbr-xing", "id3v2", "id3v1", "44k-padded"]

    @Test(arguments: variants)
    func completeMP3sDecodeToTheClip(variant: String) throws {
        let mp3 = try AudioFixtures.data("mp3/dog-\(variant).mp3")
        let (native, rate) = try decoder.decodeMono(mp3)
        #expect(rate == (variant == "44k-padded" ? 44_100 : 16_000))
        let samples = rate == 16_000 ? native : try decoder.decode(mp3, rate: 16_000)
        let flac = try decoder.decodeMono(AudioFixtures.data("golden/dog-en-us.flac")).samples
        // LAME adds its encoder delay and pads the last frame (a gapless Info/Xing header removes both).
        #expect(samples.count >= flac.count - 2 && samples.count <= flac.count + 2 * 1_152, "\(samples.count) samples")
        // The same signal, some lag behind: the best normalised correlation over the first 1,600 lags.
        let n = flac.count - 1_600
        func correlation(_ lag: Int) -> Double {
            var (xy, xx, yy) = (0.0, 0.0, 0.0)
            for i in 0..<n {
                let (x, y) = (Double(flac[i]), Double(samples[min(i + lag, samples.count - 1)]))
                xy += x * y; xx += x * x; yy += y * y
            }
            return xy / (xx * yy).squareRoot()
        }
        let best = (0..<1_600).map(correlation).max()!
        #expect(best > 0.9, "best correlation \(best)")
    }

    /// Cut after two thirds, an MP3 decodes to what it holds (MP3 has no length to check it against).
    @Test func aTruncatedMP3DecodesWhatItHolds() throws {
        let mp3 = try AudioFixtures.data("mp3/dog-cbr.mp3")
        let part = try decoder.decodeMono(mp3.prefix(mp3.count * 2 / 3)).samples
        #expect(part.count > 20_000 && part.count < 26_000)
    }

    /// The duration limit still holds while an MP3 decodes (its header length is not trusted either way).
    @Test func theLimitHoldsWhileDecoding() throws {
        let short = AudioDecoder(maxSeconds: 1)
        let error = #expect(throws: AudioError.self) { try short.decodeMono(AudioFixtures.data("mp3/dog-id3v2.mp3")) }
        guard case .tooLong? = error else { Issue.record("\(String(describing: error))"); return }
    }
}

/// NaN and infinity in a float file are refused, never replaced (issue 24, item 7); a header's impossible
/// sample rate is said in words (item 10).
@Suite struct AudioValueTests {
    let decoder = AudioDecoder(maxSeconds: 600)

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteSamplesAreRefused(value: Float) {
        var samples = [Float](repeating: 0.25, count: 16_000)
        samples[8_000] = value
        let error = #expect(throws: AudioError.self) { try decoder.decode(AudioFixtures.floatWAV(samples, rate: 16_000), rate: 16_000) }
        #expect(error == .nonFinite(frame: 8_000, rate: 16_000))
        #expect(error?.description.hasPrefix("audio holds non-finite samples (NaN or infinity), the first at 0.500 s (frame 8000)") == true)
    }

    @Test func nonFiniteSamplesOfAStereoFileNameTheirFrame() {
        var samples = [Float](repeating: 0.25, count: 2 * 4_000)
        samples[2 * 3_000 + 1] = .nan
        #expect(throws: AudioError.nonFinite(frame: 3_000, rate: 8_000)) {
            try decoder.decodeMono(AudioFixtures.floatWAV(samples, rate: 8_000, channels: 2))
        }
    }

    @Test func finiteFloatSamplesDecodeAsTheyAre() throws {
        let samples: [Float] = (0..<1_000).map { Float($0 % 50) / 100 - 0.25 }
        #expect(try decoder.decodeMono(AudioFixtures.floatWAV(samples, rate: 16_000)).samples == samples)
    }

    @Test func sampleRateZeroIsSaidInWords() {
        let error = #expect(throws: AudioError.self) { try decoder.decodeMono(AudioFixtures.wav([0.1, 0.2], rate: 0)) }
        #expect(error == .unsupportedSampleRate(0, range: 4_000...192_000))
        #expect(error?.description == "audio header declares a sample rate of 0 Hz, which no audio has (a broken header): write the file again with its real sample rate, within 4000...192000 Hz")
    }

    @Test func zeroChannelsAreSaidInWords() {
        let header = AudioFixtures.header(format: 1, bits: 16, frames: 0, rate: 16_000, channels: 0)
        #expect(throws: AudioError.unreadable(detail: "the header declares 0 channels (a broken header); write the file again with its real channel count")) {
            try decoder.decodeMono(header + Data(count: 64))
        }
    }
}
