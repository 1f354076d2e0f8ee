/// Matrix products, backed by SGEMM.
extension Ops {
    /// C = A·B (or A·Bᵀ when `transposeB`), optionally accumulating into C (`accumulate`: C += A·B).
    /// A [m, k]; B [k, n] or [n, k] when transposed; C [m, n]. C must not alias A or B.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false, accumulate: Bool = false,
                              into c: Tensor) throws(TensorError) {
        try requireMatrix("matmul", a)
        try requireMatrix("matmul", b)
        let (m, k) = (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw .incompatibleShapes(op: "matmul", lhs: a.shape, rhs: b.shape) }
        try requireMatrix("matmul", c, rows: m, cols: n)
        if m == 0 || n == 0 { return }
        BLAS.sgemm(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                   a: a.pointer, lda: a.strides[0], b: b.pointer, ldb: b.strides[0],
                   beta: accumulate ? 1 : 0, c: c.pointer, ldc: c.strides[0])
    }

    /// The PyTorch `nn.Linear` layout: y = x·Wᵀ + b, with x [n, dIn], W [dOut, dIn], b [dOut], y [n, dOut].
    /// The bias is written first and SGEMM accumulates onto it (beta = 1), saving a pass over y.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: Tensor) throws(TensorError) {
        try requireMatrix("linear", x)
        try requireMatrix("linear", weight, cols: x.shape[1])
        let (n, dOut) = (x.shape[0], weight.shape[0])
        try requireMatrix("linear", y, rows: n, cols: dOut)
        if let bias {
            try requireVector("linear.bias", bias, count: dOut)
            for row in 0..<n { (y.pointer + row * y.strides[0]).update(from: bias.pointer, count: dOut) }
        }
        try matmul(x, weight, transposeB: true, accumulate: bias != nil, into: y)
    }
}
