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
        try requireMatrix("linear", weight)
        try linear(x, dOut: weight.shape[0], dIn: weight.shape[1], weight: weight, packed: nil, bias: bias,
                   activation: activation, workers: workers, into: y)
    }

    /// y = act(x·Wᵀ + b) with prepared `LinearWeights` (the packed kernel when W could be packed).
    public static func linear(_ x: Tensor, _ layer: LinearWeights, activation: Activation = .none,
                              workers: Int = 1, into y: Tensor) throws(TensorError) {
        try linear(x, dOut: layer.dOut, dIn: layer.dIn, weight: layer.unpacked, packed: layer.packed,
                   bias: layer.bias, activation: activation, workers: workers, into: y)
    }

    /// Packed weights run `PackedGEMM` (bias in its registers); unprepared weights run SGEMM with the bias
    /// written first and the product accumulated onto it (beta = 1), saving a pass over y. With `workers` > 1
    /// the output columns are split in blocks, one product per worker; the activation runs on each block as soon
    /// as it is done, while it is still in cache. `weight` may be nil only when `packed` is given.
    private static func linear(_ x: Tensor, dOut: Int, dIn: Int, weight: Tensor?, packed: PackedWeights?,
                               bias: Tensor?, activation: Activation, workers: Int, into y: Tensor) throws(TensorError) {
        try requireMatrix("linear", x)
        let n = x.shape[0]
        guard x.shape[1] == dIn else { throw .incompatibleShapes(op: "linear", lhs: x.shape, rhs: [dOut, dIn]) }
        try requireMatrix("linear", y, rows: n, cols: dOut)
        if let bias { try requireVector("linear.bias", bias, count: dOut) }
        guard n > 0 else { return }
        let blocks = Parallel.blocks(dOut, parts: workers, align: PackedGEMM.panelWidth)
        Parallel.forEach(blocks.count) { b in
            let cols = blocks[b]
            let yBlock = y.pointer + cols.lowerBound
            if let packed {
                PackedGEMM.run(m: n, columns: cols, a: x.pointer, lda: x.strides[0], weights: packed,
                               activation: .none, residual: nil, ldr: 0, c: yBlock, ldc: y.strides[0])
            } else if let w = weight {
                if let bias {
                    for row in 0..<n { (yBlock + row * y.strides[0]).update(from: bias.pointer + cols.lowerBound, count: cols.count) }
                }
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

/// A linear layer prepared at load: W [dOut, dIn] (PyTorch layout) and b packed for `PackedGEMM`, which then
/// serves every call, so W is resident once: the pages of a memory-mapped checkpoint are released, and a copy
/// in memory (weights widened from float16) is dropped. A weight that cannot be packed (a strided view) is kept
/// as given, for SGEMM.
public struct LinearWeights: Sendable {
    /// W [dOut, dIn] when it is not packed.
    let unpacked: Tensor?
    /// b [dOut].
    public let bias: Tensor?
    /// W and b packed in 16-column panels (nil when W is not contiguous: SGEMM only).
    public let packed: PackedWeights?
    public let dIn: Int, dOut: Int

    /// `precision` .bfloat16: W rounded to bfloat16 where the CPU multiplies it (see `Precision`).
    public init(weight: Tensor, bias: Tensor?, precision: Precision = .float32) throws(TensorError) {
        try Ops.requireMatrix("LinearWeights", weight)
        if let bias { try Ops.requireVector("LinearWeights.bias", bias, count: weight.shape[0]) }
        (dOut, dIn) = (weight.shape[0], weight.shape[1])
        self.bias = bias
        if weight.isContiguous {
            packed = PackedWeights(weight.pointer, n: dOut, k: dIn, bias: bias, precision: precision)
            weight.releaseMappedPages()
            unpacked = nil
        } else {
            packed = nil
            unpacked = weight
        }
    }

    /// W [dOut, dIn] as little-endian float16 values at `raw` (any alignment; a converted checkpoint's weights),
    /// packed as float16 panels that the kernel widens as it reads them: the same products as widening W here,
    /// in half the memory.
    public init(float16 raw: UnsafeRawPointer, dOut: Int, dIn: Int, bias: Tensor?) throws(TensorError) {
        if let bias { try Ops.requireVector("LinearWeights.bias", bias, count: dOut) }
        (self.dOut, self.dIn) = (dOut, dIn)
        self.bias = bias
        packed = PackedWeights(float16: raw, n: dOut, k: dIn, bias: bias)
        unpacked = nil
    }
}
