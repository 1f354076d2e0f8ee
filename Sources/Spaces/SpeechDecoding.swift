import CZlib
import Foundation

/// How speech is transcribed: faster-whisper's `transcribe()` options (faster_whisper/transcribe.py), with its
/// defaults, which `SpeechRecognizer` follows window by window:
/// - each window is decoded at the first temperature of `temperatures` (beam search with `beamSize` beams at 0,
///   `bestOf` samples above 0) whose result is acceptable: compression ratio ≤ `compressionRatioThreshold` and
///   average log-probability ≥ `logProbThreshold` — unless the window is silent (no-speech probability above
///   `noSpeechThreshold` and low log-probability), which needs no retry; when none is acceptable, the one with the
///   best average log-probability among those under the ratio threshold (else among all) is kept;
/// - a window with no-speech probability above `noSpeechThreshold` and average log-probability not above
///   `logProbThreshold` is skipped;
/// - with `conditionOnPreviousText` each window is prompted with the text so far, reset after a window decoded
///   above `promptResetOnTemperature`.
/// `beamSize` 1 is greedy decoding (faster-whisper's `beam_size=1`), about 2× faster than beam 5.
///
/// Beyond faster-whisper, `nBest`: a transcript of one window decoded by beam search keeps its best `nBest`
/// hypotheses, and the speech bridge embeds each and pools them weighted by sequence probability (SpeechBridge).
public struct SpeechDecoding: Sendable, Equatable {
    public var beamSize = 5
    /// Hypotheses pooled into an audio item's vector (1: the best transcript only; at most `beamSize`).
    public var nBest = 1
    public var bestOf = 5
    public var temperatures: [Double] = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    public var compressionRatioThreshold = 2.4
    public var logProbThreshold: Float = -1
    public var noSpeechThreshold: Float = 0.6
    public var conditionOnPreviousText = true
    public var promptResetOnTemperature = 0.5

    public init(beamSize: Int = 5, nBest: Int = 1) {
        self.beamSize = beamSize
        self.nBest = nBest
    }

    /// UTF-8 bytes over zlib-compressed bytes (level 6, zlib format): faster-whisper's `get_compression_ratio`.
    /// Repetitive text compresses well; Whisper's loops score above 2.4.
    static func compressionRatio(_ text: String) -> Double {
        let bytes = Array(text.utf8)
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&out, &size, bytes, uLong(bytes.count), Z_DEFAULT_COMPRESSION)
        guard status == Z_OK, size > 0 else { return 0 }
        return Double(bytes.count) / Double(size)
    }
}
