import Foundation

/// Whisper's log-mel front end (Radford et al. 2022), exactly as faster-whisper's `FeatureExtractor` computes it,
/// which is what the CTranslate2 model was run on (goldens: models/reference_whisper.py):
/// 16 kHz mono; 160 zeros appended; STFT with n_fft 400, hop 160, periodic Hann window, centred frames (reflect
/// padding of 200); |X|² of bins 0...200; the last STFT frame dropped; 80 Slaney-scaled mel filters (librosa
/// `filters.mel(htk=False, norm="slaney")`); log10 with a floor of 1e-10; values clamped to (global max − 8);
/// then (x + 4) / 4. One frame per 10 ms. The encoder reads 30 s windows of 3000 frames; a window is the
/// features of its frames, zero-padded (feature value 0, as faster-whisper's `pad_or_trim`).
public struct WhisperFeatures: Sendable {
    public static let sampleRate = 16_000
    public static let nFFT = 400
    public static let hop = 160
    public static let windowFrames = 3_000

    public let nMels: Int
    let spectrogram: MelSpectrogram

    public init(nMels: Int = 80) {
        self.nMels = nMels
        spectrogram = MelSpectrogram(
            nFFT: Self.nFFT, filters: MelFilterbank.slaney(sampleRate: Double(Self.sampleRate), nFFT: Self.nFFT, nMels: nMels))
    }

    /// The log-mel features of the whole signal, time-major [frames, nMels], and `contentFrames` — the frames
    /// that cover the audio (faster-whisper: the feature count minus one; the last frame is never decoded).
    public func callAsFunction(_ samples: [Float]) -> (values: [Float], frames: Int, contentFrames: Int) {
        let n = Self.nFFT, hop = Self.hop, half = n / 2
        var x = samples.map(Double.init)
        x.append(contentsOf: repeatElement(0, count: hop))
        // numpy "reflect" padding: mirror about the edge sample, without repeating it.
        let length = x.count
        func reflect(_ i: Int) -> Double {
            guard length > 1 else { return x[0] }
            let period = 2 * (length - 1)
            var j = i % period
            if j < 0 { j += period }
            return x[j < length ? j : period - j]
        }
        let frames = (length + 2 * half - n) / hop       // 1 + … STFT frames, minus the dropped last one
        var globalMax = -Double.infinity
        var logs = [Double](repeating: 0, count: frames * nMels)
        spectrogram.forEachFrame(frames, hop: hop, sample: reflect) { t, energies in
            for m in 0..<nMels {
                let v = log10(max(energies[m], 1e-10))
                logs[t * nMels + m] = v
                globalMax = max(globalMax, v)
            }
        }
        let floor = globalMax - 8
        let out = logs.map { Float((max($0, floor) + 4) / 4) }
        return (out, frames, max(0, frames - 1))
    }

    /// Window `index` (3000 frames from frame index·3000) of time-major features, zero-padded: [3000, nMels].
    public func window(_ features: [Float], contentFrames: Int, index: Int) -> [Float] {
        window(features, contentFrames: contentFrames, from: index * Self.windowFrames)
    }

    /// The 3000 frames from frame `start` of time-major features, zero-padded: [3000, nMels].
    public func window(_ features: [Float], contentFrames: Int, from start: Int) -> [Float] {
        let count = max(0, min(Self.windowFrames, contentFrames - start))
        var w = [Float](repeating: 0, count: Self.windowFrames * nMels)
        if count > 0 {
            w.replaceSubrange(0..<(count * nMels), with: features[(start * nMels)..<((start + count) * nMels)])
        }
        return w
    }
}

/// Mel filterbanks as the reference front ends build them.
public enum MelFilterbank {
    /// librosa `filters.mel(sr, n_fft, n_mels, htk=False, norm="slaney")` (Slaney's Auditory Toolbox scale:
    /// linear below 1 kHz, logarithmic above; each triangle scaled to unit area). [nMels][nFFT/2 + 1].
    public static func slaney(sampleRate: Double, nFFT: Int, nMels: Int) -> [[Double]] {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        func hzToMel(_ f: Double) -> Double { f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp }
        func melToHz(_ m: Double) -> Double { m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m }
        let maxMel = hzToMel(sampleRate / 2)
        let melF = (0..<(nMels + 2)).map { melToHz(maxMel * Double($0) / Double(nMels + 1)) }
        return triangles(melF, sampleRate: sampleRate, nFFT: nFFT) { i in 2 / (melF[i + 2] - melF[i]) }
    }

    /// HTK mel scale (2595·log10(1 + f/700)) with each filter scaled to sum to one (aisfx's front end).
    public static func htkUnitSum(sampleRate: Double, nFFT: Int, nMels: Int) -> [[Double]] {
        func hzToMel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func melToHz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let maxMel = hzToMel(sampleRate / 2)
        let melF = (0..<(nMels + 2)).map { melToHz(maxMel * Double($0) / Double(nMels + 1)) }
        var bank = triangles(melF, sampleRate: sampleRate, nFFT: nFFT) { _ in 1 }
        for i in bank.indices {
            let s = bank[i].reduce(0, +)
            if s > 0 { bank[i] = bank[i].map { $0 / s } }
        }
        return bank
    }

    private static func triangles(_ melF: [Double], sampleRate: Double, nFFT: Int,
                                  scale: (Int) -> Double) -> [[Double]] {
        let bins = nFFT / 2 + 1
        let fft = (0..<bins).map { Double($0) * sampleRate / Double(nFFT) }
        return (0..<(melF.count - 2)).map { i in
            let lowerWidth = melF[i + 1] - melF[i], upperWidth = melF[i + 2] - melF[i + 1]
            let s = scale(i)
            return fft.map { f in
                let lower = (f - melF[i]) / lowerWidth, upper = (melF[i + 2] - f) / upperWidth
                return max(0, min(lower, upper)) * s
            }
        }
    }
}
