/// A token embedding table [rows, cols] kept at its checkpoint's precision: float32 (a tensor), or float16 as
/// stored — half the memory of a widened copy, widened (F16C) as it is read.
///
/// For tables read a row per token and, when tied to a decoder's output projection, multiplied with the
/// decoder state at every step: Whisper's 51864 × 384 embedding is 38 MiB at float16, 76 MiB widened, and its
/// logits product reads all of it per generated token, so float16 halves those bytes too.
public struct EmbeddingTable: Sendable {
    public let rows: Int, cols: Int
    private let storage: Storage

    private enum Storage: Sendable {
        case float32(Tensor)
        case float16(HalfBuffer)
    }

    /// A float32 table [rows, cols].
    public init(_ table: Tensor) throws(TensorError) {
        try Ops.requireMatrix("EmbeddingTable", table)
        (rows, cols) = (table.shape[0], table.shape[1])
        storage = .float32(table)
    }

    /// `rows × cols` little-endian float16 values at `raw` (any alignment), copied as they are.
    public init(rows: Int, cols: Int, float16 raw: UnsafeRawPointer) {
        (self.rows, self.cols) = (rows, cols)
        let buffer = HalfBuffer(count: rows * cols)
        for i in 0..<rows * cols {
            buffer.pointer[i] = halfBits(raw, i)
        }
        storage = .float16(buffer)
    }

    /// Rows `ids` into out [ids.count, cols]; an id outside the table throws `indexOutOfRange`.
    public func lookup(_ ids: [Int32], into out: Tensor) throws(TensorError) {
        switch storage {
        case .float32(let table):
            try Ops.embeddingLookup(table, ids: ids, into: out)
        case .float16(let buffer):
            try Ops.requireMatrix("EmbeddingTable.lookup", out, rows: ids.count, cols: cols)
            try Ops.requireIDs(ids, below: rows, op: "EmbeddingTable.lookup")
            for (row, id) in ids.enumerated() {
                let source = buffer.pointer + Int(id) * cols, target = out.pointer + row * out.strides[0]
                for c in 0..<cols { target[c] = Float(Float16(bitPattern: source[c])) }
            }
        }
    }

    /// y [k, rows] = x [k, cols] · tableᵀ: the logits of an output projection tied to the table (k decoder states
    /// at once: each table row is read once for all k), its rows split over `workers`.
    public func product(_ x: Tensor, workers: Int = 1, into y: Tensor) throws(TensorError) {
        switch storage {
        case .float32(let table):
            try Ops.matmul(x, table, transposeB: true, into: y)
        case .float16(let buffer):
            try Ops.requireMatrix("EmbeddingTable.product", x, cols: cols)
            let k = x.shape[0]
            try Ops.requireMatrix("EmbeddingTable.product", y, rows: k, cols: rows)
            let cols = cols, xStride = x.strides[0], yStride = y.strides[0]
            let blocks = Parallel.blocks(rows, parts: workers, align: 8)
            Parallel.forEach(blocks.count) { b in
                for r in blocks[b] {
                    for i in 0..<k {
                        y.pointer[i * yStride + r] = Self.dot(buffer.pointer + r * cols, x.pointer + i * xStride, count: cols)
                    }
                }
            }
        }
    }

    /// Σ half[i] · v[i], eight lanes at a time (two accumulators, so consecutive multiply-adds do not wait on
    /// each other).
    @inline(__always)
    private static func dot(_ half: UnsafePointer<UInt16>, _ v: UnsafePointer<Float>, count: Int) -> Float {
        var (s0, s1) = (Vec8(), Vec8())
        var i = 0
        while i + 16 <= count {
            s0 = s0.addingProduct(widen8(half + i), load8(v + i))
            s1 = s1.addingProduct(widen8(half + i + 8), load8(v + i + 8))
            i += 16
        }
        var sum = (s0 + s1).sum()
        while i < count {
            sum += Float(Float16(bitPattern: half[i])) * v[i]
            i += 1
        }
        return sum
    }
}
