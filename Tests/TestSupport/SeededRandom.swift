/// Deterministic pseudo-random numbers (SplitMix64, Steele et al. 2014), so a failing test reproduces.
public struct SeededRandom {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-scale, scale), from the top 24 bits of `next()`.
    public mutating func float(scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }

    /// Approximately normal (a sum of four uniforms, scaled to unit variance within 1%).
    public mutating func gaussian() -> Float { (0..<4).reduce(Float(0)) { s, _ in s + float() } * 0.87 }

    /// `d` values from `gaussian()`.
    public mutating func vector(_ d: Int) -> [Float] { (0..<d).map { _ in gaussian() } }

    /// Uniform in `range` (modulo bias is negligible for the small ranges tests use). `range` must not be empty.
    public mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}
