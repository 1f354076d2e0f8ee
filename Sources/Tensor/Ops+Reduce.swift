/// Row reductions used by pooling: mean over rows, L2 normalisation.
extension Ops {
    /// The mean of the rows of x [rows, cols] (all rows count: callers pass only the real tokens).
    public static func meanRows(_ x: Tensor) throws(TensorError) -> [Float] {
        try requireMatrix("meanRows", x)
        let (rows, cols) = (x.shape[0], x.shape[1])
        guard rows > 0 else { throw .invalidArgument(op: "meanRows", detail: "no rows") }
        var out = [Float](repeating: 0, count: cols)
        out.withUnsafeMutableBufferPointer { acc in
            let a = acc.baseAddress!
            for r in 0..<rows {
                let p = x.pointer + r * x.strides[0]
                var i = 0
                while i + vecWidth <= cols { store16(load16(a + i) + load16(p + i), a + i); i += vecWidth }
                while i < cols { a[i] += p[i]; i += 1 }
            }
            let scale = 1 / Float(rows)
            for i in 0..<cols { a[i] *= scale }
        }
        return out
    }

    /// ‖v‖₂, without overflow or underflow: the squares are summed as they are when the largest component
    /// m = max|vᵢ| lies in `unscaledRange` (no square overflows, none that matters underflows), else the norm
    /// is m·‖v/m‖₂. Infinite only when the norm itself passes `Float.greatestFiniteMagnitude` (or v holds an
    /// infinity); NaN when v holds a NaN.
    public static func l2Norm(_ v: [Float]) -> Float {
        let m = maxMagnitude(v)
        guard m > 0, m.isFinite, !unscaledRange.contains(m) else { return sumOfSquares(v).squareRoot() }
        return m * sumOfSquares(v.map { $0 / m }).squareRoot()
    }

    /// v / ‖v‖₂: the one L2 normalisation of every layer. Any finite vector that is not all zeros comes out
    /// at unit length, [1e20, 1e20, 1e20, 1e20] and [1e-45, 0, 0, 0] included: one pass finds m = max|vᵢ|,
    /// and only when m is outside `unscaledRange` is v divided by m first (exactly, so a subnormal m works
    /// too). v is returned unchanged when it is all zeros or holds a NaN or an infinity (no direction).
    public static func l2Normalized(_ v: [Float]) -> [Float] {
        let m = maxMagnitude(v)
        guard m > 0, m.isFinite else { return v }
        let scaled = unscaledRange.contains(m) ? v : v.map { $0 / m }
        let norm = sumOfSquares(scaled).squareRoot()
        guard norm.isFinite else { return v }
        let inv = 1 / norm
        return scaled.map { $0 * inv }
    }

    /// Where m = max|vᵢ| lets v be squared as it is: for m ≤ 2⁵⁰ each square is at most 2¹⁰⁰, so up to 2²⁷
    /// components sum below `Float.greatestFiniteMagnitude`; for m ≥ 2⁻⁵⁰, m² ≥ 2⁻¹⁰⁰ is a normal number and
    /// the rounding of squares below the normal range (at most 2⁻¹⁴⁹ each) is negligible beside it.
    static let unscaledRange: ClosedRange<Float> = 0x1p-50...0x1p50

    /// max|vᵢ|, skipping NaNs (0 for an empty or all-NaN vector).
    static func maxMagnitude(_ v: [Float]) -> Float {
        var m: Float = 0
        for x in v where x.magnitude > m { m = x.magnitude }
        return m
    }

    static func sumOfSquares(_ v: [Float]) -> Float {
        var sum: Float = 0
        for x in v { sum += x * x }
        return sum
    }
}
