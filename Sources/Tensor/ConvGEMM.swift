/// The matrix product of a convolution, C[m, n] = act(A[m, k] · B[k, n] + bias[n]) (+ R[m, n]): A holds one image
/// pixel per row (NHWC activations, or im2col patches), B is the convolution weight packed once at load.
///
/// Why not SGEMM: the 1x1 convolutions of mobile networks are long and thin (EfficientNet-Lite0: 12544 × 16 × 32
/// up to 49 × 1280 × 320). OpenBLAS packs both operands on every call and runs bias, activation and residual as
/// separate passes over C; at these shapes the copies cost as much as the arithmetic. Here B is packed at load in
/// panels of 16 columns ([k, 16] each, zero-padded), A is read in place, and a 6 × 16 register tile (12 AVX2
/// accumulators, the Haswell SGEMM microkernel shape) starts from the bias and ends with the activation and the
/// residual add before its only store. Rows are processed in tiles that stay in L1/L2 while every panel passes.
/// Needs the Tensor target compiled for the host CPU (FMA, AVX2), like SmallGEMM.
enum ConvGEMM {
    static let panelWidth = 16
    static let tileRows = 6

    /// W [n, k] (a convolution's [cOut, kh·kw·cIn]) → panels [ceil(n / 16), k, 16], zero-padded columns.
    static func pack(_ w: UnsafePointer<Float>, n: Int, k: Int) -> Tensor {
        let panelCount = (n + panelWidth - 1) / panelWidth
        let panels = Tensor(zeros: [panelCount, k, panelWidth])
        for o in 0..<n {
            let dst = panels.pointer + (o / panelWidth) * k * panelWidth + o % panelWidth
            for i in 0..<k { dst[i * panelWidth] = w[o * k + i] }
        }
        return panels
    }

    /// Bias [n] (or zeros) padded to whole panels.
    static func packBias(_ bias: UnsafePointer<Float>?, n: Int) -> Tensor {
        let padded = Tensor(zeros: [(n + panelWidth - 1) / panelWidth * panelWidth])
        if let bias { padded.pointer.update(from: bias, count: n) }
        return padded
    }

    /// Rows of A per cache tile for depth k: ≤ ~256 KB, so the tile stays in L2 while every panel (k × 16, in
    /// L1 for small k) runs down it; B is then streamed once per tile.
    static func rowTile(k: Int) -> Int {
        max(tileRows, min(40 * tileRows, 65536 / max(k, 1) / tileRows * tileRows))
    }

    /// C rows 0..<m: act(A·B + bias) (+ R). A [m, k] (row stride lda), C/R [m, n] (strides ldc/ldr).
    static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panels: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>, activation: ConvActivation,
                    residual: UnsafePointer<Float>?, ldr: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let panelCount = (n + panelWidth - 1) / panelWidth
        let cacheRows = rowTile(k: k)
        var start = 0
        while start < m {
            let end = min(m, start + cacheRows)
            for p in 0..<panelCount {
                let j = p * panelWidth
                var i = start
                while i < end {
                    let rows = min(tileRows, end - i)
                    tile(rows: rows, cols: min(panelWidth, n - j), k: k, a: a + i * lda, lda: lda,
                         b: panels + p * k * panelWidth, bias: bias + j, activation: activation,
                         residual: residual.map { $0 + i * ldr + j }, ldr: ldr, c: c + i * ldc + j, ldc: ldc)
                    i += rows
                }
            }
            start = end
        }
    }

    /// One 6 × 16 tile of C (`rows` ≤ 6 valid rows, `cols` ≤ 16 valid columns). Missing rows re-read row 0 of A
    /// (their results are dropped), so the loop is always the full 6 × 16 kernel.
    @inline(__always)
    private static func tile(rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>, activation: ConvActivation,
                             residual: UnsafePointer<Float>?, ldr: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0)
        let a3 = a + (rows > 3 ? 3 * lda : 0), a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0)
        let b0 = load8(bias), b1 = load8(bias + 8)
        var (c0, c1, c2, c3, c4, c5) = (b0, b0, b0, b0, b0, b0)
        var (d0, d1, d2, d3, d4, d5) = (b1, b1, b1, b1, b1, b1)
        var bp = b
        for p in 0..<k {
            let x = load8(bp), y = load8(bp + 8)
            var s = Vec8(repeating: a0[p]); c0 = c0.addingProduct(s, x); d0 = d0.addingProduct(s, y)
            s = Vec8(repeating: a1[p]); c1 = c1.addingProduct(s, x); d1 = d1.addingProduct(s, y)
            s = Vec8(repeating: a2[p]); c2 = c2.addingProduct(s, x); d2 = d2.addingProduct(s, y)
            s = Vec8(repeating: a3[p]); c3 = c3.addingProduct(s, x); d3 = d3.addingProduct(s, y)
            s = Vec8(repeating: a4[p]); c4 = c4.addingProduct(s, x); d4 = d4.addingProduct(s, y)
            s = Vec8(repeating: a5[p]); c5 = c5.addingProduct(s, x); d5 = d5.addingProduct(s, y)
            bp += panelWidth
        }
        let (lo, hi) = activation.bounds
        let r = residual ?? UnsafePointer(c)
        storeRow(c0, d0, lo, hi, cols: cols, residual: residual == nil ? nil : r, c: c)
        if rows > 1 { storeRow(c1, d1, lo, hi, cols: cols, residual: residual == nil ? nil : r + ldr, c: c + ldc) }
        if rows > 2 { storeRow(c2, d2, lo, hi, cols: cols, residual: residual == nil ? nil : r + 2 * ldr, c: c + 2 * ldc) }
        if rows > 3 { storeRow(c3, d3, lo, hi, cols: cols, residual: residual == nil ? nil : r + 3 * ldr, c: c + 3 * ldc) }
        if rows > 4 { storeRow(c4, d4, lo, hi, cols: cols, residual: residual == nil ? nil : r + 4 * ldr, c: c + 4 * ldc) }
        if rows > 5 { storeRow(c5, d5, lo, hi, cols: cols, residual: residual == nil ? nil : r + 5 * ldr, c: c + 5 * ldc) }
    }

    /// Clamps one row of the tile to [lo, hi] (the activation), adds the residual row, stores `cols` columns.
    @inline(__always)
    private static func storeRow(_ a: Vec8, _ b: Vec8, _ lo: Vec8, _ hi: Vec8, cols: Int,
                                 residual: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) {
        var (a, b) = (clamp8(a, lo, hi), clamp8(b, lo, hi))
        if cols == panelWidth {
            if let residual { a += load8(residual); b += load8(residual + 8) }
            store8(a, c); store8(b, c + 8)
        } else {
            for q in 0..<cols {
                let v = q < 8 ? a[q] : b[q - 8]
                c[q] = residual.map { v + $0[q] } ?? v
            }
        }
    }
}

typealias Vec8 = SIMD8<Float>

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vec8 { UnsafeRawPointer(p).loadUnaligned(as: Vec8.self) }

@inline(__always)
func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self) }

/// Lane-wise max(lo, min(x, hi)) (compare + blend, see `vclamp`).
@inline(__always)
func clamp8(_ v: Vec8, _ lo: Vec8, _ hi: Vec8) -> Vec8 {
    v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
}

extension ConvActivation {
    /// The activation as a clamp to [lo, hi] (±infinity where unbounded), for branch-free kernels.
    @inline(__always)
    var bounds: (lo: Vec8, hi: Vec8) {
        switch self {
        case .none: (Vec8(repeating: -.infinity), Vec8(repeating: .infinity))
        case .relu: (Vec8(repeating: 0), Vec8(repeating: .infinity))
        case .relu6: (Vec8(repeating: 0), Vec8(repeating: 6))
        }
    }
}
