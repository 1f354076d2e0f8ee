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

    /// Elementwise function applied to a linear layer's output, fused into the same pass over each block.
    public enum Activation: Sendable {
        case none
        /// Exact GELU (see `Ops.gelu`).
        case gelu
    }

    /// The PyTorch `nn.Linear` layout: y = act(x·Wᵀ + b), with x [n, dIn], W [dOut, dIn], b [dOut], y [n, dOut].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation = .none,
                              workers: Int = 1, into y: Tensor) throws(TensorError) {
        try linear(x, weight: weight, panels: nil, bias: bias, activation: activation, workers: workers, into: y)
    }

    /// y = act(x·Wᵀ + b) with prepared `LinearWeights` (packed panels for few rows, SGEMM otherwise).
    public static func linear(_ x: Tensor, _ layer: LinearWeights, activation: Activation = .none,
                              workers: Int = 1, into y: Tensor) throws(TensorError) {
        try linear(x, weight: layer.weight, panels: layer.panels, bias: layer.bias, activation: activation,
                   workers: workers, into: y)
    }

    /// The bias is written first and the product accumulates onto it (SGEMM beta = 1), saving a pass over y. With
    /// `workers` > 1 the output columns are split in blocks, one product per worker; the activation runs on each
    /// block as soon as it is done, while it is still in cache.
    private static func linear(_ x: Tensor, weight w: Tensor, panels: Tensor?, bias: Tensor?, activation: Activation,
                               workers: Int, into y: Tensor) throws(TensorError) {
        try requireMatrix("linear", x)
        try requireMatrix("linear", w)
        let (n, dIn, dOut) = (x.shape[0], x.shape[1], w.shape[0])
        guard w.shape[1] == dIn else { throw .incompatibleShapes(op: "linear", lhs: x.shape, rhs: w.shape) }
        try requireMatrix("linear", y, rows: n, cols: dOut)
        if let bias { try requireVector("linear.bias", bias, count: dOut) }
        guard n > 0 else { return }
        let panelWidth = SmallGEMM.panelWidth
        let blocks = Parallel.blocks(dOut, parts: workers, align: panelWidth)
        // Few rows: the packing-free kernel on the packed panels (see SmallGEMM); otherwise SGEMM.
        let small = n <= SmallGEMM.maxRows ? panels : nil
        Parallel.forEach(blocks.count) { b in
            let cols = blocks[b]
            let yBlock = y.pointer + cols.lowerBound
            for row in 0..<n {
                let yRow = yBlock + row * y.strides[0]
                if let bias { yRow.update(from: bias.pointer + cols.lowerBound, count: cols.count) }
                else if small != nil { yRow.update(repeating: 0, count: cols.count) }
            }
            if let small {
                SmallGEMM.accumulate(m: n, n: cols.count, k: dIn, a: x.pointer, lda: x.strides[0],
                                     panels: small.pointer + cols.lowerBound * dIn, c: yBlock, ldc: y.strides[0])
            } else {
                BLAS.sgemm(transposeA: false, transposeB: true, m: n, n: cols.count, k: dIn, alpha: 1,
                           a: x.pointer, lda: x.strides[0], b: w.pointer + cols.lowerBound * w.strides[0],
                           ldb: w.strides[0], beta: bias == nil ? 0 : 1, c: yBlock, ldc: y.strides[0])
            }
            if activation == .gelu {
                for row in 0..<n { geluInPlace(yBlock + row * y.strides[0], count: cols.count) }
            }
        }
    }
}

/// A linear layer prepared at load: the checkpoint weight W [dOut, dIn] as given (a zero-copy view; SGEMM reads
/// it transposed), plus a copy packed in `SmallGEMM` panels for products with few rows.
public struct LinearWeights: Sendable {
    /// W [dOut, dIn] (PyTorch layout).
    public let weight: Tensor
    /// b [dOut].
    public let bias: Tensor?
    /// W packed as [dOut / 32, dIn, 32]: panel p holds columns 32p ..< 32p + 32 of Wᵀ, row after row, so the
    /// few-rows kernel streams it sequentially. Nil when dOut is not a multiple of 32 (SGEMM is used then).
    public let panels: Tensor?
    public var dIn: Int { weight.shape[1] }
    public var dOut: Int { weight.shape[0] }

    public init(weight: Tensor, bias: Tensor?) throws(TensorError) {
        try Ops.requireMatrix("LinearWeights", weight)
        if let bias { try Ops.requireVector("LinearWeights.bias", bias, count: weight.shape[0]) }
        self.weight = weight
        self.bias = bias
        panels = SmallGEMM.pack(weight)
    }
}
