import Foundation

/// Multi-head attention of n queries over m keys (Vaswani et al. 2017, §3.2): a decoder's cross-attention over
/// the encoder states, and its causal self-attention over a key/value cache (queries are the newest n positions).
extension Ops {
    /// out[i, h] = softmax(Q[i, h]·K[:, h]ᵀ / √headDim + mask) · V[:, h], heads in column blocks of headDim.
    ///
    /// - query: [n, dModel]; keys, values: [m, dModel] (row strides may differ: views into fused projections or a
    ///   cache); out: [n, dModel].
    /// - causalOffset: nil for no mask (cross-attention); else query i sees keys 0...i + causalOffset (a cache
    ///   holding causalOffset earlier positions before these n).
    /// - scores: scratch of at least workers·n·m elements.
    /// - workers: heads are shared among this many concurrent workers.
    public static func attention(query q: Tensor, keys k: Tensor, values v: Tensor, nHeads: Int, causalOffset: Int?,
                                 scores: Tensor, workers: Int = 1, into out: Tensor) throws(TensorError) {
        try requireMatrix("attention.query", q)
        let (n, dModel) = (q.shape[0], q.shape[1])
        try requireMatrix("attention.keys", k, cols: dModel)
        let m = k.shape[0]
        try requireMatrix("attention.values", v, rows: m, cols: dModel)
        try requireMatrix("attention.out", out, rows: n, cols: dModel)
        guard nHeads > 0, dModel % nHeads == 0 else {
            throw .invalidArgument(op: "attention", detail: "dModel \(dModel) not divisible by nHeads \(nHeads)")
        }
        if let causalOffset, causalOffset + n > m || causalOffset < 0 {
            throw .invalidArgument(op: "attention", detail: "causal offset \(causalOffset) + \(n) queries > \(m) keys")
        }
        let workers = max(1, min(workers, nHeads))
        guard scores.isContiguous, scores.count >= workers * n * m else {
            throw .shapeMismatch(op: "attention.scores", expected: [workers, n, m], actual: scores.shape)
        }
        guard n > 0, m > 0 else { return }
        let headDim = dModel / nHeads
        let scale = 1 / Float(headDim).squareRoot()
        let (ldq, ldk, ldv, ldo) = (q.strides[0], k.strides[0], v.strides[0], out.strides[0])
        let shares = Parallel.blocks(nHeads, parts: workers, align: 1)
        Parallel.forEach(shares.count) { worker in
            let s = scores.pointer + worker * n * m
            for h in shares[worker] {
                let col = h * headDim
                // S [n, m] = Q_h K_hᵀ · scale
                BLAS.sgemm(transposeA: false, transposeB: true, m: n, n: m, k: headDim, alpha: scale,
                           a: q.pointer + col, lda: ldq, b: k.pointer + col, ldb: ldk, beta: 0, c: s, ldc: m)
                for row in 0..<n {
                    let visible = causalOffset.map { min(m, $0 + row + 1) } ?? m
                    for j in visible..<m { s[row * m + j] = -.infinity }
                    softmaxInPlace(s + row * m, count: m)
                }
                // O_h [n, headDim] = P V_h
                BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: headDim, k: m, alpha: 1,
                           a: s, lda: m, b: v.pointer + col, ldb: ldv, beta: 0, c: out.pointer + col, ldc: ldo)
            }
        }
    }
}

extension Reference {
    /// Attention of n queries over m keys with an explicit additive mask (−∞ above the causal diagonal).
    public static func attention(query q: Tensor, keys k: Tensor, values v: Tensor, nHeads: Int,
                                 causalOffset: Int?) -> Tensor {
        let (n, d) = (q.shape[0], q.shape[1]), m = k.shape[0], hd = d / nHeads
        let out = Tensor(zeros: [n, d])
        for h in 0..<nHeads {
            for i in 0..<n {
                var s = [Double](repeating: 0, count: m)
                for j in 0..<m {
                    var acc = 0.0
                    for c in 0..<hd { acc += Double(q[i, h * hd + c]) * Double(k[j, h * hd + c]) }
                    s[j] = acc / Double(hd).squareRoot()
                    if let causalOffset, j > i + causalOffset { s[j] = -.infinity }
                }
                let top = s.max()!
                let e = s.map { Foundation.exp($0 - top) }
                let total = e.reduce(0, +)
                for c in 0..<hd {
                    var acc = 0.0
                    for j in 0..<m { acc += e[j] / total * Double(v[j, h * hd + c]) }
                    out[i, h * hd + c] = Float(acc)
                }
            }
        }
        return out
    }
}
