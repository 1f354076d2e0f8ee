import Foundation
import Media

/// Audio decoding from memory through libsndfile (WAV, FLAC, OGG/Vorbis, MP3: header, duration and sample-rate
/// limits, truncation checks, non-finite samples), downmix and resampling to Whisper's 16 kHz, as the server
/// runs it. Any input must give finite samples or an `AudioError` in words (never libsndfile's internal
/// "SF_INFO struct incomplete").
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudio(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let decoder = AudioDecoder(maxSeconds: 5)
    do {
        let samples = try decoder.decode(Data(bytes: data, count: size), rate: 16_000)
        precondition(samples.allSatisfy(\.isFinite), "decoded audio holds non-finite samples")
    } catch {
        precondition(!"\(error)".contains("SF_INFO"), "libsndfile's internal words reach the client: \(error)")
    }
    return 0
}
