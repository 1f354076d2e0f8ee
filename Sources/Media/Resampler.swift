import Foundation

/// Band-limited rational resampling by a polyphase windowed-sinc FIR: the algorithm of
/// `scipy.signal.resample_poly(x, up, down)` with its default Kaiser window (β = 5), reproduced exactly so the
/// tests can compare sample by sample (Tests/MediaTests/ResamplerTests.swift, goldens by
/// models/reference_whisper.py).
///
/// With up/down reduced by their gcd, the low-pass filter h has 2·half + 1 taps, half = 10·max(up, down),
/// cutoff 1/max(up, down) of the Nyquist rate, normalised to unit DC gain and scaled by `up`. Output sample n is
///     y[n] = Σ_k x[k] · h[n·down + half − k·up]
/// (the input zero-stuffed by `up`, filtered, decimated by `down`; edges padded with zeros), and there are
/// ⌈count·up / down⌉ of them. Each output needs only the ~2·half/up taps of one polyphase branch.
public struct Resampler: Sendable {
    public let up: Int
    public let down: Int
    let half: Int
    /// The FIR taps (Float, computed in Double).
    let taps: [Float]

    public init(from inputRate: Int, to outputRate: Int) {
        let g = Self.gcd(inputRate, outputRate)
        let (up, down) = (outputRate / g, inputRate / g)
        let maxRate = max(up, down)
        self.up = up
        self.down = down
        half = 10 * maxRate
        taps = Self.firwin(count: 2 * half + 1, cutoff: 1 / Double(maxRate), beta: 5).map { Float($0 * Double(up)) }
    }

    public func process(_ x: [Float]) -> [Float] {
        if up == down { return x }
        let n = x.count
        let outCount = (n * up + down - 1) / down
        var y = [Float](repeating: 0, count: outCount)
        let lastTap = 2 * half
        x.withUnsafeBufferPointer { xp in
            taps.withUnsafeBufferPointer { h in
                for i in 0..<outCount {
                    let center = i * down + half          // h index when k·up = 0
                    // k from ceil((center − 2·half) / up) to floor(center / up), clipped to the input.
                    let kLow = max(0, center - lastTap <= 0 ? 0 : (center - lastTap + up - 1) / up)
                    let kHigh = min(n - 1, center / up)
                    guard kLow <= kHigh else { continue }
                    var acc: Double = 0
                    var t = center - kLow * up
                    for k in kLow...kHigh {
                        acc += Double(xp[k]) * Double(h[t])
                        t -= up
                    }
                    y[i] = Float(acc)
                }
            }
        }
        return y
    }

    /// scipy.signal.firwin(count, cutoff, window=('kaiser', beta)): a windowed-sinc low-pass, unit gain at DC.
    static func firwin(count: Int, cutoff: Double, beta: Double) -> [Double] {
        let alpha = 0.5 * Double(count - 1)
        let i0Beta = besselI0(beta)
        var h = (0..<count).map { i -> Double in
            let m = Double(i) - alpha
            let x = cutoff * m
            let sinc = x == 0 ? 1 : sin(Double.pi * x) / (Double.pi * x)
            let r = 2 * Double(i) / Double(count - 1) - 1
            let window = besselI0(beta * (1 - r * r).squareRoot()) / i0Beta
            return cutoff * sinc * window
        }
        let sum = h.reduce(0, +)
        for i in h.indices { h[i] /= sum }
        return h
    }

    /// Modified Bessel function of the first kind, order 0 (power series; converges fast for β ≤ 20).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let q = x * x / 4
        for k in 1..<60 {
            term *= q / Double(k * k)
            sum += term
            if term < sum * 1e-17 { break }
        }
        return sum
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
