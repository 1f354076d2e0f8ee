import Foundation

/// A mixed-radix complex FFT (recursive decimation in time, Cooley & Tukey 1965) for any length whose prime
/// factors are small — Whisper's n_fft = 400 = 2⁴·5², aisfx's 2048 = 2¹¹. Each stage combines p sub-transforms
/// with an O(p²) butterfly, so the cost is n·Σpᵢ per transform. Double precision throughout (the spectrogram
/// front ends feed log-mel features that must match numpy's to ~1e-5).
public struct FFT: Sendable {
    public let count: Int
    let factors: [Int]
    /// e^{-2πik/n}, k = 0..<n.
    let twiddleRe: [Double]
    let twiddleIm: [Double]

    public init(count: Int) {
        precondition(count > 0, "FFT length must be positive")
        self.count = count
        var factors: [Int] = []
        var rest = count
        for p in [4, 2, 3, 5] {
            while rest % p == 0 { factors.append(p); rest /= p }
        }
        var p = 7
        while rest > 1 {
            while rest % p == 0 { factors.append(p); rest /= p }
            p += 2
        }
        self.factors = factors
        twiddleRe = (0..<count).map { cos(-2 * Double.pi * Double($0) / Double(count)) }
        twiddleIm = (0..<count).map { sin(-2 * Double.pi * Double($0) / Double(count)) }
    }

    /// |X[k]|² for k = 0...n/2 of a real frame of `count` samples (the one-sided power spectrum).
    public func powerSpectrum(_ frame: UnsafePointer<Double>, into power: UnsafeMutablePointer<Double>,
                              scratch: inout Scratch) {
        for i in 0..<count { scratch.inRe[i] = frame[i]; scratch.inIm[i] = 0 }
        transform(&scratch)
        for k in 0...(count / 2) { power[k] = scratch.outRe[k] * scratch.outRe[k] + scratch.outIm[k] * scratch.outIm[k] }
    }

    /// Per-thread buffers for one transform.
    public struct Scratch {
        var inRe, inIm, outRe, outIm: [Double]
        public init(count: Int) {
            inRe = .init(repeating: 0, count: count); inIm = inRe; outRe = inRe; outIm = inRe
        }
    }

    /// out = DFT(in) for the scratch's input buffers.
    func transform(_ s: inout Scratch) {
        s.inRe.withUnsafeBufferPointer { ir in s.inIm.withUnsafeBufferPointer { ii in
            s.outRe.withUnsafeMutableBufferPointer { or in s.outIm.withUnsafeMutableBufferPointer { oi in
                recurse(ir.baseAddress!, ii.baseAddress!, stride: 1, or.baseAddress!, oi.baseAddress!, n: count, stage: 0)
            } }
        } }
    }

    /// DFT of the n inputs at in[0], in[stride], ... into out[0..<n].
    private func recurse(_ inRe: UnsafePointer<Double>, _ inIm: UnsafePointer<Double>, stride: Int,
                         _ outRe: UnsafeMutablePointer<Double>, _ outIm: UnsafeMutablePointer<Double>,
                         n: Int, stage: Int) {
        if n == 1 { outRe[0] = inRe[0]; outIm[0] = inIm[0]; return }
        let p = factors[stage], m = n / p
        // p interleaved sub-sequences (r, r + p, r + 2p, ...), each transformed into out[r·m ..< (r+1)·m].
        for r in 0..<p {
            recurse(inRe + r * stride, inIm + r * stride, stride: stride * p, outRe + r * m, outIm + r * m,
                    n: m, stage: stage + 1)
        }
        // Butterfly: X[k + q·m] = Σ_r W_n^{r(k + q·m)} · Sub_r[k], in place over the p positions {r·m + k}.
        let step = count / n
        var tRe = [Double](repeating: 0, count: p), tIm = tRe
        for k in 0..<m {
            for r in 0..<p {
                let w = (r * k * step) % count
                let (aRe, aIm) = (outRe[r * m + k], outIm[r * m + k])
                tRe[r] = aRe * twiddleRe[w] - aIm * twiddleIm[w]
                tIm[r] = aRe * twiddleIm[w] + aIm * twiddleRe[w]
            }
            for q in 0..<p {
                var sRe = 0.0, sIm = 0.0
                for r in 0..<p {
                    let w = (r * q * m * step) % count
                    sRe += tRe[r] * twiddleRe[w] - tIm[r] * twiddleIm[w]
                    sIm += tRe[r] * twiddleIm[w] + tIm[r] * twiddleRe[w]
                }
                outRe[q * m + k] = sRe
                outIm[q * m + k] = sIm
            }
        }
    }
}
