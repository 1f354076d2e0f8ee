/// C[m, n] += A[m, k] · B[k, n] for products with few rows — a linear layer applied to a short sentence.
///
/// Why not SGEMM: OpenBLAS packs B into its panel layout on every call. For a weight matrix used by only ~16 rows
/// the packing costs about as much as the arithmetic (perf at 16 tokens: `sgemm_itcopy` 44%, `sgemm_kernel` 39%).
/// Here B — a linear layer's weight — is packed once at load (`pack`, kept by `LinearWeights`) in panels of 32
/// columns, [dIn, 32] each, contiguous; a register-blocked kernel keeps 8 rows × 32 columns of C in 16 vector
/// registers while k runs, each step loading the next 128 contiguous bytes of the panel and broadcasting 8
/// elements of A (the GotoBLAS microkernel shape with the packing moved to load time). Contiguous panels matter:
/// reading the same columns from a plain [dIn, dOut] matrix strides by a whole row per step, across pages, which
/// the hardware prefetchers do not follow (perf: the kernel then stalls on B loads at batch 1).
/// Measured single-threaded, 16 × 1152 × 384: 104 GFLOP/s vs OpenBLAS 84; in the model, 8 × 16 tokens (128 rows)
/// run ~15% faster than with OpenBLAS and 32 × 16 (512 rows) the same, so `Ops.linear`
/// uses it up to `SmallGEMM.maxRows`. Needs the Tensor target compiled for the host CPU (Package.swift
/// `-target-cpu native`): without FMA/AVX the SIMD16 operations here fall back to libm calls.
enum SmallGEMM {
    /// Largest row count routed here; above it OpenBLAS is as fast or faster.
    static let maxRows = 128
    /// Columns per panel; `n` must be a multiple.
    static let panelWidth = 32

    /// W [dOut, dIn] → panels [dOut / 32, dIn, 32] (Wᵀ cut in 32-column panels); nil if dOut % 32 != 0.
    static func pack(_ w: Tensor) -> Tensor? {
        let (dOut, dIn) = (w.shape[0], w.shape[1])
        guard dOut % panelWidth == 0, dOut > 0 else { return nil }
        let panels = Tensor(zeros: [dOut / panelWidth, dIn, panelWidth])
        for o in 0..<dOut {
            let src = w.pointer + o * w.strides[0]
            let dst = panels.pointer + (o / panelWidth) * dIn * panelWidth + o % panelWidth
            for i in 0..<dIn { dst[i * panelWidth] = src[i * w.strides[1]] }
        }
        return panels
    }

    /// C[m, n] += A[m, k] · B[k, n], B given as `pack` panels (k rows of 32 floats each, panel after panel).
    static func accumulate(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                           panels: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let ldb = panelWidth
        var j = 0
        while j < n {
            let b = panels + (j / panelWidth) * k * panelWidth
            var i = 0
            while i + 8 <= m {
                rows8(k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc + j, ldc: ldc)
                i += 8
            }
            while i + 4 <= m {
                rows4(k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc + j, ldc: ldc)
                i += 4
            }
            while i < m {
                rows1(k: k, a: a + i * lda, b: b, ldb: ldb, c: c + i * ldc + j)
                i += 1
            }
            j += panelWidth
        }
    }

    @inline(__always)
    private static func update(_ c: UnsafeMutablePointer<Float>, _ lo: Vec16, _ hi: Vec16) {
        store16(load16(c) + lo, c)
        store16(load16(c + 16) + hi, c + 16)
    }

    private static func rows8(k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int) {
        var (c0, c1, c2, c3, c4, c5, c6, c7) = (Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16())
        var (d0, d1, d2, d3, d4, d5, d6, d7) = (Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16())
        var bp = b, ap = a
        for _ in 0..<k {
            let lo = load16(bp), hi = load16(bp + 16)
            var s = Vec16(repeating: ap[0]); c0 = c0.addingProduct(s, lo); d0 = d0.addingProduct(s, hi)
            s = Vec16(repeating: ap[lda]); c1 = c1.addingProduct(s, lo); d1 = d1.addingProduct(s, hi)
            s = Vec16(repeating: ap[2 * lda]); c2 = c2.addingProduct(s, lo); d2 = d2.addingProduct(s, hi)
            s = Vec16(repeating: ap[3 * lda]); c3 = c3.addingProduct(s, lo); d3 = d3.addingProduct(s, hi)
            s = Vec16(repeating: ap[4 * lda]); c4 = c4.addingProduct(s, lo); d4 = d4.addingProduct(s, hi)
            s = Vec16(repeating: ap[5 * lda]); c5 = c5.addingProduct(s, lo); d5 = d5.addingProduct(s, hi)
            s = Vec16(repeating: ap[6 * lda]); c6 = c6.addingProduct(s, lo); d6 = d6.addingProduct(s, hi)
            s = Vec16(repeating: ap[7 * lda]); c7 = c7.addingProduct(s, lo); d7 = d7.addingProduct(s, hi)
            bp += ldb
            ap += 1
        }
        update(c, c0, d0); update(c + ldc, c1, d1); update(c + 2 * ldc, c2, d2); update(c + 3 * ldc, c3, d3)
        update(c + 4 * ldc, c4, d4); update(c + 5 * ldc, c5, d5); update(c + 6 * ldc, c6, d6); update(c + 7 * ldc, c7, d7)
    }

    private static func rows4(k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int) {
        var (c0, c1, c2, c3) = (Vec16(), Vec16(), Vec16(), Vec16())
        var (d0, d1, d2, d3) = (Vec16(), Vec16(), Vec16(), Vec16())
        var bp = b, ap = a
        for _ in 0..<k {
            let lo = load16(bp), hi = load16(bp + 16)
            var s = Vec16(repeating: ap[0]); c0 = c0.addingProduct(s, lo); d0 = d0.addingProduct(s, hi)
            s = Vec16(repeating: ap[lda]); c1 = c1.addingProduct(s, lo); d1 = d1.addingProduct(s, hi)
            s = Vec16(repeating: ap[2 * lda]); c2 = c2.addingProduct(s, lo); d2 = d2.addingProduct(s, hi)
            s = Vec16(repeating: ap[3 * lda]); c3 = c3.addingProduct(s, lo); d3 = d3.addingProduct(s, hi)
            bp += ldb
            ap += 1
        }
        update(c, c0, d0); update(c + ldc, c1, d1); update(c + 2 * ldc, c2, d2); update(c + 3 * ldc, c3, d3)
    }

    private static func rows1(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>) {
        var (c0, d0) = (Vec16(), Vec16())
        var bp = b
        for p in 0..<k {
            let s = Vec16(repeating: a[p])
            c0 = c0.addingProduct(s, load16(bp))
            d0 = d0.addingProduct(s, load16(bp + 16))
            bp += ldb
        }
        update(c, c0, d0)
    }
}
