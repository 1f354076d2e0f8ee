import Tensor

/// Deterministic pseudo-random tensors (SplitMix64), so failures reproduce.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    mutating func float(scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ in float(scale: scale) }
        return try! Tensor(shape: shape, values: values)
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.toArray(), b.toArray()).map { abs($0 - $1) }.max() ?? 0
}
