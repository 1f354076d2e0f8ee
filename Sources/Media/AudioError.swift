/// Why an audio input could not be turned into samples. Each case names what was wrong and the values
/// involved; Service maps them to INVALID_ARGUMENT (bad bytes) or RESOURCE_EXHAUSTED (over a limit).
public enum AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libsndfile could not recognise or open the bytes (not WAV/FLAC/OGG/MP3, or a broken header).
    case unreadable(detail: String)
    /// The header was read but the sample data is cut short or corrupt.
    case corrupt(detail: String)
    /// The stream holds no samples.
    case empty
    /// Sample rate outside what the decoder accepts.
    case unsupportedSampleRate(Int, range: ClosedRange<Int>)
    /// Longer than the configured limit (seconds, checked from the header before decoding).
    case tooLong(seconds: Double, limit: Double)
    /// A sample is NaN or infinite (a float file can hold them): the first such frame, at the file's rate.
    case nonFinite(frame: Int, rate: Int)

    public var description: String {
        switch self {
        case let .unreadable(detail): "audio could not be decoded (WAV, FLAC, OGG/Vorbis, MP3 are read): \(detail)"
        case let .corrupt(detail): "audio data is corrupt or truncated: \(detail)"
        case .empty: "audio holds no samples"
        case let .unsupportedSampleRate(rate, range) where rate < 1:
            "audio header declares a sample rate of \(rate) Hz, which no audio has (a broken header): write the file again with its real sample rate, within \(range.lowerBound)...\(range.upperBound) Hz"
        case let .unsupportedSampleRate(rate, range):
            "audio sample rate \(rate) Hz is outside \(range.lowerBound)...\(range.upperBound) Hz: resample it into that range"
        case let .tooLong(seconds, limit):
            "audio is \(String(format: "%.1f", seconds)) s long, over the limit of \(String(format: "%.0f", limit)) s"
        case let .nonFinite(frame, rate):
            "audio holds non-finite samples (NaN or infinity), the first at \(String(format: "%.3f", Double(frame) / Double(rate))) s (frame \(frame)): samples must be finite numbers, in -1...1 for float audio; fix the program that wrote the file"
        }
    }
}
