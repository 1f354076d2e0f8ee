/// Row-wise and elementwise ops: residual add, bias add, GELU, layer norm, embedding lookup.
extension Ops {
    /// out = a + b, elementwise over matrices of equal shape.
    public static func add(_ a: Tensor, _ b: Tensor, into out: Tensor) throws(TensorError) {
        try requireMatrix("add", a)
        try requireMatrix("add", b, rows: a.shape[0], cols: a.shape[1])
        try requireMatrix("add", out, rows: a.shape[0], cols: a.shape[1])
        let cols = a.shape[1]
        for row in 0..<a.shape[0] {
            let pa = a.pointer + row * a.strides[0], pb = b.pointer + row * b.strides[0]
            let po = out.pointer + row * out.strides[0]
            var i = 0
            while i + vecWidth <= cols {
                store16(load16(pa + i) + load16(pb + i), po + i)
                i += vecWidth
            }
            while i < cols { po[i] = pa[i] + pb[i]; i += 1 }
        }
    }

    /// out[r, :] = x[r, :] + bias, for every row.
    public static func addBias(_ x: Tensor, _ bias: Tensor, into out: Tensor) throws(TensorError) {
        try requireMatrix("addBias", x)
        try requireVector("addBias", bias, count: x.shape[1])
        try requireMatrix("addBias", out, rows: x.shape[0], cols: x.shape[1])
        let cols = x.shape[1]
        for row in 0..<x.shape[0] {
            let px = x.pointer + row * x.strides[0], po = out.pointer + row * out.strides[0]
            var i = 0
            while i + vecWidth <= cols {
                store16(load16(px + i) + load16(bias.pointer + i), po + i)
                i += vecWidth
            }
            while i < cols { po[i] = px[i] + bias.pointer[i]; i += 1 }
        }
    }

    /// GELU in its exact form, x·½·(1 + erf(x/√2)) — BERT's `hidden_act: "gelu"` (not the tanh approximation).
    public static func gelu(_ x: Tensor, into out: Tensor) throws(TensorError) {
        try requireMatrix("gelu", x)
        try requireMatrix("gelu", out, rows: x.shape[0], cols: x.shape[1])
        for row in 0..<x.shape[0] {
            mapVector(x.pointer + row * x.strides[0], out.pointer + row * out.strides[0], x.shape[1], geluVector)
        }
    }

    @inline(__always)
    static func geluVector(_ v: Vec16) -> Vec16 { v * 0.5 * (1 + verf(v * 0.707_106_781_186_547_5)) }

    @inline(__always)
    static func geluInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) { mapVector(p, p, count, geluVector) }

    /// Layer normalisation over each row: (x - mean) / sqrt(var + eps) · gamma + beta (biased variance, as
    /// PyTorch). When `residual` is given the row normalised is x + residual (the post-LN transformer's
    /// `LayerNorm(h + sublayer(h))`), fused to save a pass.
    public static func layerNorm(_ x: Tensor, residual: Tensor? = nil, gamma: Tensor, beta: Tensor, eps: Float,
                                 into out: Tensor) throws(TensorError) {
        try requireMatrix("layerNorm", x)
        let (rows, d) = (x.shape[0], x.shape[1])
        if let residual { try requireMatrix("layerNorm.residual", residual, rows: rows, cols: d) }
        try requireVector("layerNorm.gamma", gamma, count: d)
        try requireVector("layerNorm.beta", beta, count: d)
        try requireMatrix("layerNorm", out, rows: rows, cols: d)
        guard d % vecWidth == 0 else {
            throw .invalidArgument(op: "layerNorm", detail: "row length \(d) must be a multiple of \(vecWidth)")
        }
        let g = gamma.pointer, b = beta.pointer
        for row in 0..<rows {
            let px = x.pointer + row * x.strides[0], po = out.pointer + row * out.strides[0]
            // Pass 1: sum (and the residual add, written to out so pass 2 reads one stream).
            var sum = Vec16()
            var i = 0
            while i < d {
                var v = load16(px + i)
                if let residual { v += load16(residual.pointer + row * residual.strides[0] + i) }
                store16(v, po + i)
                sum += v
                i += vecWidth
            }
            let mean = sum.sum() / Float(d)
            // Pass 2: variance about the mean (two-pass for accuracy, as PyTorch).
            var sq = Vec16()
            i = 0
            while i < d {
                let c = load16(po + i) - mean
                sq += c * c
                i += vecWidth
            }
            let invStd = 1 / (sq.sum() / Float(d) + eps).squareRoot()
            // Pass 3: scale and shift.
            i = 0
            while i < d {
                store16((load16(po + i) - mean) * invStd * load16(g + i) + load16(b + i), po + i)
                i += vecWidth
            }
        }
    }

    /// out[r, :] = table[ids[r], :]. Throws if an id is outside the table.
    public static func embeddingLookup(_ table: Tensor, ids: [Int32], into out: Tensor) throws(TensorError) {
        try requireMatrix("embeddingLookup", table)
        try requireMatrix("embeddingLookup", out, rows: ids.count, cols: table.shape[1])
        let (vocab, d) = (table.shape[0], table.shape[1])
        try requireIDs(ids, below: vocab, op: "embeddingLookup")
        for (row, id) in ids.enumerated() {
            (out.pointer + row * out.strides[0]).update(from: table.pointer + Int(id) * table.strides[0], count: d)
        }
    }

    /// Every id indexes a table of `bound` rows; otherwise `indexOutOfRange` for the first that does not.
    static func requireIDs(_ ids: [Int32], below bound: Int, op: String) throws(TensorError) {
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= bound }) {
            throw .indexOutOfRange(op: op, index: Int(bad), bound: bound)
        }
    }

    /// Softmax of each row in place: exp(x - max) / Σ exp(x - max).
    public static func softmaxRows(_ x: Tensor) throws(TensorError) {
        try requireMatrix("softmaxRows", x)
        for row in 0..<x.shape[0] { softmaxInPlace(x.pointer + row * x.strides[0], count: x.shape[1]) }
    }

    @inline(__always)
    static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        let full = n & ~(vecWidth - 1), tail = n - full
        var rowMax = Vec16(repeating: -.infinity)
        var i = 0
        while i < full { rowMax = vmax(rowMax, load16(p + i)); i += vecWidth }
        if tail > 0 { rowMax = vmax(rowMax, loadPartial(p + full, tail, fill: -.infinity)) }
        let m = rowMax.max()
        var vsum = Vec16()
        i = 0
        while i < full {
            let e = vexp(load16(p + i) - m)
            store16(e, p + i)
            vsum += e
            i += vecWidth
        }
        if tail > 0 {
            let e = vexp(loadPartial(p + full, tail, fill: -.infinity) - m)  // fill lanes give e^-inf = 0
            storePartial(e, p + full, tail)
            vsum += e
        }
        let inv = 1 / vsum.sum()
        i = 0
        while i < full { store16(load16(p + i) * inv, p + i); i += vecWidth }
        for j in full..<n { p[j] *= inv }
    }
}
