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

    /// ‖v‖₂.
    public static func l2Norm(_ v: [Float]) -> Float {
        var sum: Float = 0
        for x in v { sum += x * x }
        return sum.squareRoot()
    }

    /// v / ‖v‖₂ (v unchanged when its norm is 0): the one L2 normalisation of every layer.
    public static func l2Normalized(_ v: [Float]) -> [Float] {
        let norm = l2Norm(v)
        guard norm > 0 else { return v }
        let inv = 1 / norm
        return v.map { $0 * inv }
    }
}
