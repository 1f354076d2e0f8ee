import COpenBLAS

/// The one place that calls OpenBLAS (STYLE item 5). Everything else goes through these wrappers, so a different
/// BLAS (Accelerate, MKL, BLIS) is a change to this file only.
///
/// OpenBLAS runs single-threaded in this process, set once before its first call: Rosetta parallelises the work
/// itself and calls OpenBLAS from several threads at once (encoder workers, concurrent searches), and OpenBLAS
/// 0.3.21's threaded server deadlocks when two threads run multi-threaded routines at the same time (seen: two
/// attention workers of one Whisper forward, each in cblas_sgemm, spinning in exec_blas for good).
public enum BLAS {
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// Sets the number of threads OpenBLAS uses for each call (process-wide). Only for a process that calls
    /// OpenBLAS from one thread at a time (the benchmarks' comparison of threading schemes); servers keep 1.
    public static func setThreadCount(_ count: Int) {
        _ = singleThreaded
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int {
        _ = singleThreaded
        return Int(openblas_get_num_threads())
    }

    /// The CPU kernel family OpenBLAS picked (e.g. "Haswell", "SkylakeX"); OPENBLAS_CORETYPE overrides it.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The build configuration string of the loaded OpenBLAS.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// Row-major SGEMM: C[m, n] = alpha * op(A) * op(B) + beta * C, where op(X) is X or Xᵀ.
    /// Leading dimensions are row strides in elements. Callers (Ops) validate shapes; this only forwards.
    @inline(__always)
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

// MARK: Exact vector search (Sources/Index)

extension BLAS {
    /// Row-major SGEMV: y[m] = alpha * A[m, n] · x[n] + beta * y. One query against every stored row.
    public static func sgemv(
        m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        _ = singleThreaded
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// Row-major C[m, n] = A[m, k] · B[n, k]ᵀ: a batch of m queries against n stored rows in one SGEMM.
    public static func sgemmTransposedB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
            0, c, Int32(ldc))
    }
}
