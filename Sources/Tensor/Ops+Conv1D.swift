/// 1-D convolution over time-major sequences (Whisper's audio front end: two k = 3 convolutions, the second with
/// stride 2), computed as im2col + one SGEMM.
extension Ops {
    /// y[t, o] = b[o] + Σ_c Σ_j x[t·stride + j − padding, c] · W[o, c, j]  (zero outside 0..<T).
    ///
    /// - x: [T, cIn] (time-major: one row per time step); weight: [cOut, cIn, k] (PyTorch `Conv1d` layout,
    ///   read as the matrix [cOut, cIn·k]); bias: [cOut]; y: [tOut, cOut] with tOut = (T + 2·padding − k) / stride + 1.
    /// - columns: scratch of at least tOut·cIn·k elements (the unfolded input), reused across calls.
    public static func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                              columns: Tensor, workers: Int = 1, into y: Tensor) throws(TensorError) {
        try requireMatrix("conv1d", x)
        guard weight.rank == 3, weight.isContiguous else {
            throw .shapeMismatch(op: "conv1d.weight", expected: [-1, x.shape[1], -1], actual: weight.shape)
        }
        let (t, cIn) = (x.shape[0], x.shape[1])
        let (cOut, k) = (weight.shape[0], weight.shape[2])
        guard weight.shape[1] == cIn else { throw .incompatibleShapes(op: "conv1d", lhs: x.shape, rhs: weight.shape) }
        guard stride > 0, padding >= 0, t + 2 * padding >= k else {
            throw .invalidArgument(op: "conv1d", detail: "T \(t), kernel \(k), stride \(stride), padding \(padding)")
        }
        let tOut = (t + 2 * padding - k) / stride + 1
        try requireMatrix("conv1d.out", y, rows: tOut, cols: cOut)
        guard columns.isContiguous, columns.count >= tOut * cIn * k else {
            throw .shapeMismatch(op: "conv1d.columns", expected: [tOut, cIn * k], actual: columns.shape)
        }
        // Unfold: row t holds x[t·stride − padding + j, c] at column c·k + j (the weight's [cIn, k] order).
        let width = cIn * k
        let ldx = x.strides[0]
        let shares = Parallel.blocks(tOut, parts: max(1, workers), align: 1)
        Parallel.forEach(shares.count) { part in
            for row in shares[part] {
                let out = columns.pointer + row * width
                for j in 0..<k {
                    let src = row * stride - padding + j
                    if src < 0 || src >= t {
                        for c in 0..<cIn { out[c * k + j] = 0 }
                    } else {
                        let xr = x.pointer + src * ldx
                        for c in 0..<cIn { out[c * k + j] = xr[c] }
                    }
                }
            }
        }
        let unfolded = Tensor(shape: [tOut, width], strides: [width, 1], storage: columns.storage, offset: columns.offset)
        let w = try weight.reshaped([cOut, width])
        try linear(unfolded, weight: w, bias: bias, workers: workers, into: y)
    }
}

extension Reference {
    /// conv1d by its definition, Double accumulation.
    public static func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (t, cIn) = (x.shape[0], x.shape[1])
        let (cOut, k) = (weight.shape[0], weight.shape[2])
        let tOut = (t + 2 * padding - k) / stride + 1
        let y = Tensor(zeros: [tOut, cOut])
        for i in 0..<tOut {
            for o in 0..<cOut {
                var acc = Double(bias?[o] ?? 0)
                for c in 0..<cIn {
                    for j in 0..<k {
                        let src = i * stride - padding + j
                        if src >= 0 && src < t { acc += Double(x[src, c]) * Double(weight[o, c, j]) }
                    }
                }
                y[i, o] = Float(acc)
            }
        }
        return y
    }
}
