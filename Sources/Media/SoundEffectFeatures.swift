import Foundation

/// The aiSFX front end (Ma & Lerch, ISMIR 2022), as the aisfx package computes it with librosa
/// (`spectrogram_librosa.compute_spectrogram` + `spectrogram_normalize(spec_norm="original")`; goldens:
/// models/reference_aisfx.py): 44.1 kHz mono scaled to a peak of 1; STFT with n_fft 2048, hop 1024, periodic
/// Hann window, centred frames (zero padding of 1024, librosa's default); |X|²; 96 HTK mel filters from 0 to
/// 22 050 Hz, each summing to one; log10(10⁴·m + 1); divided by 9.4578, the maximum over the training corpus.
/// One frame per 23 ms; the model reads blocks of 100 frames (2.3 s).
///
/// The paper computed its spectrograms with Essentia, which has no wheel for this platform; the package's
/// librosa path is what is reproduced here (its docs warn it "may yield lower results").
public struct SoundEffectFeatures: Sendable {
    public static let sampleRate = 44_100
    public static let nFFT = 2_048
    public static let hop = 1_024
    public static let nMels = 96
    /// The "original" normalisation maximum of aisfx (over all its training spectrograms).
    static let corpusMaximum = 9.457798957824707

    let spectrogram = MelSpectrogram(
        nFFT: Self.nFFT, filters: MelFilterbank.htkUnitSum(sampleRate: Double(Self.sampleRate), nFFT: Self.nFFT, nMels: Self.nMels))

    public init() {}

    /// The features of the whole signal, time-major [frames, 96], frames = 1 + samples / hop.
    public func callAsFunction(_ samples: [Float]) -> (values: [Float], frames: Int) {
        let mels = Self.nMels
        let peak = Double(samples.lazy.map { abs($0) }.max() ?? 0)
        let gain = peak > 0 ? 1 / peak : 1
        let x = samples.map { Double($0) * gain }
        let frames = 1 + x.count / Self.hop
        var out = [Float](repeating: 0, count: frames * mels)
        // librosa's default padding: zeros outside the signal.
        spectrogram.forEachFrame(frames, hop: Self.hop, sample: { $0 >= 0 && $0 < x.count ? x[$0] : 0 }) { t, energies in
            for m in 0..<mels { out[t * mels + m] = Float(log10(energies[m] * 10_000 + 1) / Self.corpusMaximum) }
        }
        return (out, frames)
    }
}
