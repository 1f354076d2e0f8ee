import Foundation
import Media

/// Audio decoding from memory through libsndfile (WAV, FLAC, OGG/Vorbis: header, duration and sample-rate
/// limits, truncation checks), downmix and resampling to Whisper's 16 kHz, as the server runs it. Any input
/// must give finite samples or an `AudioError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudio(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let decoder = AudioDecoder(maxSeconds: 5)
    guard let samples = try? decoder.decode(Data(bytes: data, count: size), rate: 16_000) else { return 0 }
    precondition(samples.allSatisfy(\.isFinite), "decoded audio holds non-finite samples")
    return 0
}
