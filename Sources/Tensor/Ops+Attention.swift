/// Scaled dot-product multi-head attention (Vaswani et al. 2017, §3.2) over variable-length sequences.
///
/// Sequences are given as row ranges (`segments`) of the Q, K, V matrices. A query attends only to keys of its
/// own segment: this is the padding mask. With a padded batch, segment b is rows b·L ..< b·L + len_b and the padded
/// rows are skipped (their output rows are left untouched); with a packed batch the segments are back to back
/// and no FLOP is spent on padding. Both equal attention with an additive mask of -inf on padded keys.
extension Ops {
    /// Row ranges of a padded batch: sequence b occupies rows b·paddedLength ..< b·paddedLength + lengths[b].
    public static func paddedSegments(lengths: [Int], paddedLength: Int) -> [Range<Int>] {
        lengths.enumerated().map { b, len in b * paddedLength ..< b * paddedLength + len }
    }

    /// Row ranges of a packed batch: sequences back to back.
    public static func packedSegments(lengths: [Int]) -> [Range<Int>] {
        var start = 0
        return lengths.map { len in defer { start += len }; return start ..< start + len }
    }

    /// out[s, h] = softmax(Q[s, h]·K[s, h]ᵀ / √headDim) · V[s, h] for every segment s and head h, where [s, h] is
    /// the rows of segment s and the columns h·headDim ..< (h+1)·headDim.
    ///
    /// - q, k, v, out: [tokens, dModel] (row strides may differ, e.g. views into a fused QKV matrix).
    /// - scores: scratch with at least workers·maxLen² elements (maxLen = the longest segment); reused across calls.
    /// - workers: the (segment, head) pairs are shared among this many concurrent workers.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, nHeads: Int, segments: [Range<Int>],
                                 scores: Tensor, workers: Int = 1, into out: Tensor) throws(TensorError) {
        try requireMatrix("attention.q", q)
        let (tokens, dModel) = (q.shape[0], q.shape[1])
        try requireMatrix("attention.k", k, rows: tokens, cols: dModel)
        try requireMatrix("attention.v", v, rows: tokens, cols: dModel)
        try requireMatrix("attention.out", out, rows: tokens, cols: dModel)
        guard nHeads > 0, dModel % nHeads == 0 else {
            throw .invalidArgument(op: "attention", detail: "dModel \(dModel) not divisible by nHeads \(nHeads)")
        }
        let maxLen = segments.map(\.count).max() ?? 0
        let workers = max(1, min(workers, segments.count * nHeads))
        guard scores.isContiguous, scores.count >= workers * maxLen * maxLen else {
            throw .shapeMismatch(op: "attention.scores", expected: [workers, maxLen, maxLen], actual: scores.shape)
        }
        for segment in segments where segment.lowerBound < 0 || segment.upperBound > tokens {
            throw .invalidSlice(op: "attention.segments", shape: q.shape, range: segment)
        }
        let headDim = dModel / nHeads
        let scale = 1 / Float(headDim).squareRoot()
        let (ldq, ldk, ldv, ldo) = (q.strides[0], k.strides[0], v.strides[0], out.strides[0])
        let tasks = segments.filter { !$0.isEmpty }.flatMap { segment in (0..<nHeads).map { (segment, $0) } }
        let shares = Parallel.blocks(tasks.count, parts: workers, align: 1)
        Parallel.forEach(shares.count) { worker in
            let s = scores.pointer + worker * maxLen * maxLen
            for (segment, h) in tasks[shares[worker]] {
                let len = segment.count, col = h * headDim
                if len <= directMaxLength && headDim % vecWidth == 0 {
                    func direct<G: RowGroup>(_ group: G.Type) {
                        attendDirect(G.self, q: q.pointer + segment.lowerBound * ldq + col, ldq: ldq,
                                     k: k.pointer + segment.lowerBound * ldk + col, ldk: ldk,
                                     v: v.pointer + segment.lowerBound * ldv + col, ldv: ldv,
                                     out: out.pointer + segment.lowerBound * ldo + col, ldo: ldo,
                                     length: len, headDim: headDim, scale: scale)
                    }
                    if PackedGEMM.wide { direct(EightRows.self) } else { direct(FourRows.self) }
                    continue
                }
                // S [len, len] = Q_h Kᵀ_h · scale
                BLAS.sgemm(transposeA: false, transposeB: true, m: len, n: len, k: headDim, alpha: scale,
                           a: q.pointer + segment.lowerBound * ldq + col, lda: ldq,
                           b: k.pointer + segment.lowerBound * ldk + col, ldb: ldk,
                           beta: 0, c: s, ldc: len)
                // P = softmax(S) row by row
                for row in 0..<len { softmaxInPlace(s + row * len, count: len) }
                // O_h [len, headDim] = P V_h
                BLAS.sgemm(transposeA: false, transposeB: false, m: len, n: headDim, k: len, alpha: 1,
                           a: s, lda: len, b: v.pointer + segment.lowerBound * ldv + col, ldb: ldv,
                           beta: 0, c: out.pointer + segment.lowerBound * ldo + col, ldc: ldo)
            }
        }
    }

    /// Sequences up to this length take `attendDirect`; longer ones two SGEMMs per head (the crossover measured
    /// with MiniLM: bench/text/README.md).
    static let directMaxLength = 256

    /// How many query rows `attendDirect` takes together: 4 with 256-bit registers (eight accumulators of two
    /// registers each and the row of Kᵀ or V fill the sixteen), 8 with AVX-512's thirty-two — eight independent
    /// multiply-add chains, as many as two FMA units with a latency of four cycles keep busy.
    protocol RowGroup { static var rows: Int { get } }
    enum FourRows: RowGroup { static var rows: Int { 4 } }
    enum EightRows: RowGroup { static var rows: Int { 8 } }

    /// One head of one sequence without BLAS: for short sequences the two SGEMM calls per head cost more in call
    /// and packing overhead than in arithmetic. Kᵀ is copied once into a [headDim, L rounded up to 16] block on
    /// the stack, so the scores are 16-wide fused multiply-adds (a broadcast of q[i, c] times a row of Kᵀ) with no
    /// horizontal sums; then softmax, then out[i] = Σⱼ p[j]·V[j], headDim/16 vectors per row. A group of query
    /// rows (`RowGroup`) goes together, each row of Kᵀ or V loaded once for all of them: one row alone is a chain
    /// of dependent multiply-adds that waits on each one's latency.
    private static func attendDirect<G: RowGroup>(_ group: G.Type, q: UnsafePointer<Float>, ldq: Int,
                                                  k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                                                  out: UnsafeMutablePointer<Float>, ldo: Int, length len: Int,
                                                  headDim: Int, scale: Float) {
        let width = (len + vecWidth - 1) & ~(vecWidth - 1)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim * width + G.rows * width) { buffer in
            let kT = buffer.baseAddress!, p = kT + headDim * width
            // Kᵀ row by row: plain copies (the scale goes to the scores, 16 at a time), zeros past the last key.
            for c in 0..<headDim {
                let row = kT + c * width
                for j in 0..<len { row[j] = k[j * ldk + c] }
                (row + len).update(repeating: 0, count: width - len)
            }
            let scale16 = Vec16(repeating: scale)
            for i in stride(from: 0, to: len, by: G.rows) {
                // Rows past the end repeat the last row; their results are not stored.
                let rows = min(G.rows, len - i)
                let qRows = eight { q + (i + min($0, rows - 1)) * ldq }
                let pRows = eight { UnsafePointer(p + min($0, G.rows - 1) * width) }
                var j0 = 0
                while j0 < width {
                    let s = groupRows(G.self, qRows, times: kT + j0, ldb: width, depth: headDim)
                    store(G.self, (s.0 * scale16, s.1 * scale16, s.2 * scale16, s.3 * scale16, s.4 * scale16,
                                   s.5 * scale16, s.6 * scale16, s.7 * scale16), rows: G.rows, to: p + j0, stride: width)
                    j0 += vecWidth
                }
                for r in 0..<rows { softmaxInPlace(p + r * width, count: len) }
                var c0 = 0
                while c0 < headDim {
                    let o = groupRows(G.self, pRows, times: v + c0, ldb: ldv, depth: len)
                    store(G.self, o, rows: rows, to: out + i * ldo + c0, stride: ldo)
                    c0 += vecWidth
                }
            }
        }
    }

    typealias Rows8<T> = (T, T, T, T, T, T, T, T)

    @inline(__always)
    private static func eight<T>(_ row: (Int) -> T) -> Rows8<T> {
        (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
    }

    /// A group of rows of a product with one right-hand side: Σₜ aᵣ[t] · b[t·ldb ..< t·ldb + 16] over t < depth,
    /// for r < G.rows, each row of b loaded once for the group. `attendDirect`'s Q·Kᵀ and P·V.
    @inline(__always)
    private static func groupRows<G: RowGroup>(_ group: G.Type, _ a: Rows8<UnsafePointer<Float>>, times b: UnsafePointer<Float>,
                                               ldb: Int, depth: Int) -> Rows8<Vec16> {
        var (s0, s1, s2, s3, s4, s5, s6, s7) = (Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16(), Vec16())
        for t in 0..<depth {
            let bt = load16(b + t * ldb)
            s0 = s0.addingProduct(Vec16(repeating: a.0[t]), bt)
            s1 = s1.addingProduct(Vec16(repeating: a.1[t]), bt)
            s2 = s2.addingProduct(Vec16(repeating: a.2[t]), bt)
            s3 = s3.addingProduct(Vec16(repeating: a.3[t]), bt)
            if G.rows == 8 {
                s4 = s4.addingProduct(Vec16(repeating: a.4[t]), bt)
                s5 = s5.addingProduct(Vec16(repeating: a.5[t]), bt)
                s6 = s6.addingProduct(Vec16(repeating: a.6[t]), bt)
                s7 = s7.addingProduct(Vec16(repeating: a.7[t]), bt)
            }
        }
        return (s0, s1, s2, s3, s4, s5, s6, s7)
    }

    /// The first `rows` of a group's results to rows `stride` apart.
    @inline(__always)
    private static func store<G: RowGroup>(_ group: G.Type, _ s: Rows8<Vec16>, rows: Int, to out: UnsafeMutablePointer<Float>,
                                           stride: Int) {
        store16(s.0, out)
        if rows > 1 { store16(s.1, out + stride) }
        if rows > 2 { store16(s.2, out + 2 * stride) }
        if rows > 3 { store16(s.3, out + 3 * stride) }
        if G.rows == 8 {
            if rows > 4 { store16(s.4, out + 4 * stride) }
            if rows > 5 { store16(s.5, out + 5 * stride) }
            if rows > 6 { store16(s.6, out + 6 * stride) }
            if rows > 7 { store16(s.7, out + 7 * stride) }
        }
    }
}
