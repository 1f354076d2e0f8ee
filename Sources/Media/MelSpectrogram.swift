import Foundation

/// Mel energies of centred STFT frames: frame t covers samples t·hop − n/2 ..< t·hop + n/2 (what `sample`
/// returns outside the signal is the caller's padding rule), times a periodic Hann window, |X|², then each
/// mel filter's weighted sum. The front ends (Whisper's, aiSFX's) differ in padding, filters and the log
/// they take of these energies.
struct MelSpectrogram: Sendable {
    let nFFT: Int
    let filters: [[Double]]
    let window: [Double]
    let fft: FFT

    init(nFFT: Int, filters: [[Double]]) {
        self.nFFT = nFFT
        self.filters = filters
        window = (0..<nFFT).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(nFFT)) }
        fft = FFT(count: nFFT)
    }

    /// Calls `energies(t, e)` for t in 0..<frames, e = the mel energies of frame t.
    func forEachFrame(_ frames: Int, hop: Int, sample: (Int) -> Double, _ energies: (Int, [Double]) -> Void) {
        let n = nFFT, half = n / 2, bins = n / 2 + 1
        var scratch = FFT.Scratch(count: n)
        var frame = [Double](repeating: 0, count: n)
        var power = [Double](repeating: 0, count: bins)
        var mel = [Double](repeating: 0, count: filters.count)
        for t in 0..<frames {
            let start = t * hop - half
            for i in 0..<n { frame[i] = sample(start + i) * window[i] }
            frame.withUnsafeBufferPointer { f in
                power.withUnsafeMutableBufferPointer { fft.powerSpectrum(f.baseAddress!, into: $0.baseAddress!, scratch: &scratch) }
            }
            for m in filters.indices {
                var e = 0.0
                let row = filters[m]
                for k in 0..<bins { e += row[k] * power[k] }
                mel[m] = e
            }
            energies(t, mel)
        }
    }
}
