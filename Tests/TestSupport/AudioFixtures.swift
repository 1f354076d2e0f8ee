import Foundation

/// Tests/Fixtures/audio and the Whisper golden file (written by models/reference_whisper.py), and synthetic audio.
public enum AudioFixtures {
    /// Tests/Fixtures/audio.
    public static let audio = RepositoryPaths.fixtures.appendingPathComponent("audio")
    /// Whisper tiny.en's golden values: features, encoder rows, tokens and text per clip.
    public static let golden = RepositoryPaths.fixtures.appendingPathComponent("whisper-tiny-en/golden.json")

    /// The bytes of `relative` under Tests/Fixtures/audio.
    public static func data(_ relative: String) throws -> Data { try Data(contentsOf: audio.appendingPathComponent(relative)) }

    /// The Whisper golden file, parsed.
    public static func goldenJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try Data(contentsOf: golden)) as! [String: Any]
    }

    /// The chirp models/reference_whisper.py resamples: 0.5·sin(2π(100t + ½kt²)), k = 0.45·rate / 0.1 s.
    public static func chirp(rate: Int, count: Int) -> [Float] {
        let k = 0.45 * Double(rate) / 0.1
        return (0..<count).map { i in
            let t = Double(i) / Double(rate)
            return Float(0.5 * sin(2 * Double.pi * (100 * t + 0.5 * k * t * t)))
        }
    }

    /// A 16-bit PCM WAV file in memory; `samples` interleaved when `channels` > 1, clipped to [-1, 1].
    public static func wav(_ samples: [Float], rate: Int, channels: Int = 1) -> Data {
        var d = header(format: 1, bits: 16, frames: samples.count / channels, rate: rate, channels: channels)
        for s in samples { withUnsafeBytes(of: Int16(max(-1, min(1, s)) * 32767).littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// A 32-bit IEEE float WAV file in memory: the samples as they are, NaN and infinity included.
    public static func floatWAV(_ samples: [Float], rate: Int, channels: Int = 1) -> Data {
        var d = header(format: 3, bits: 32, frames: samples.count / channels, rate: rate, channels: channels)
        for s in samples { withUnsafeBytes(of: s.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// RIFF/WAVE header with a 16-byte fmt chunk (1: PCM, 3: IEEE float) and the data chunk's header.
    public static func header(format: UInt16, bits: Int, frames: Int, rate: Int, channels: Int) -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        let block = channels * bits / 8, bytes = frames * block
        d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + bytes)); d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(format); u16(UInt16(channels)); u32(UInt32(rate))
        u32(UInt32(rate * block)); u16(UInt16(block)); u16(UInt16(bits))
        d.append(contentsOf: Array("data".utf8)); u32(UInt32(bytes))
        return d
    }
}
