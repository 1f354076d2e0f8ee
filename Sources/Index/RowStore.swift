import Tensor

/// The vectors of one collection, row `r` for the item at position `r`, in one of the three storages. Not
/// thread-safe on its own: `CollectionStore` reads and writes it under its lock.
///
/// Rows are kept dense: deleting row `r` moves the last row into it (swap-remove), so there are no
/// tombstones to skip and every search streams exactly `count` rows.
protocol RowStore: AnyObject, Sendable {
    var dimensions: Int { get }
    var count: Int { get }
    /// Memory per stored vector, in bytes.
    var bytesPerVector: Int { get }
    func append(_ vector: [Float])
    func replace(_ row: Int, with vector: [Float])
    /// Moves the last row into `row` and drops the last row.
    func removeSwappingLast(_ row: Int)
    /// The stored vector (decoded from its codes for int8 and binary storage).
    func vector(_ row: Int) -> [Float]
    /// scores[q * rows.count + j] = score of query q (row q of `queries`, nq × d) against row rows[j].
    /// `scratch` is per-caller working memory the store may grow.
    func scores(
        queries: UnsafePointer<Float>, count nq: Int, rows: Range<Int>, into scores: UnsafeMutablePointer<Float>,
        scratch: inout [Float]
    )
    func write(to writer: inout SnapshotWriter) throws(IndexError)
    /// A copy of what `write(to:)` writes, sharing the arrays (copy-on-write: the first later change to this
    /// store copies them), for a snapshot to write while this store goes on changing. Only `write(to:)` may be
    /// called on it.
    func frozen() -> any RowStore
    /// A copy with arrays of its own (all of the memory copied).
    func copy() -> any RowStore
}

extension Array {
    /// The elements in a buffer of their own (assigning an array shares its buffer until one side changes).
    func copied() -> [Element] { withUnsafeBufferPointer { Array($0) } }
}

extension Storage {
    func makeRows(dimensions: Int) -> any RowStore {
        switch self {
        case .float32: Float32Rows(dimensions: dimensions)
        case .int8: Int8Rows(dimensions: dimensions)
        case .binary: BinaryRows(dimensions: dimensions)
        }
    }
}

/// float32 storage: one contiguous row-major matrix; scores are one SGEMV (one query) or SGEMM (a batch).
/// The same rows are also kept as int8 codes (`sketch`, 1/4 of the bytes): a search with few queries reads those
/// first and re-scores in float32 only the rows that can still be in the top k (CollectionStore+BoundedSearch).
final class Float32Rows: RowStore, @unchecked Sendable {
    let dimensions: Int
    private(set) var values: [Float] = []
    let sketch: Int8Rows

    init(dimensions: Int) {
        self.dimensions = dimensions
        sketch = Int8Rows(dimensions: dimensions)
    }

    var count: Int { values.count / dimensions }
    var bytesPerVector: Int { 4 * dimensions + sketch.bytesPerVector }

    func append(_ vector: [Float]) {
        values.append(contentsOf: vector)
        sketch.append(vector)
    }

    func replace(_ row: Int, with vector: [Float]) {
        values.replaceSubrange(row * dimensions ..< (row + 1) * dimensions, with: vector)
        sketch.replace(row, with: vector)
    }

    func removeSwappingLast(_ row: Int) {
        let last = count - 1
        if row != last {
            values.withUnsafeMutableBufferPointer { v in
                (v.baseAddress! + row * dimensions).update(from: v.baseAddress! + last * dimensions, count: dimensions)
            }
        }
        values.removeLast(dimensions)
        sketch.removeSwappingLast(row)
    }

    func vector(_ row: Int) -> [Float] { Array(values[row * dimensions ..< (row + 1) * dimensions]) }

    /// The float32 inner product of `query` with one row: the same product as a full scan, for one row.
    func score(_ query: UnsafePointer<Float>, row: Int) -> Float {
        var score: Float = 0
        values.withUnsafeBufferPointer { v in
            Self.product(queries: query, count: 1, rows: v.baseAddress! + row * dimensions, rowCount: 1,
                         dimensions: dimensions, into: &score)
        }
        return score
    }

    func scores(
        queries: UnsafePointer<Float>, count nq: Int, rows: Range<Int>, into scores: UnsafeMutablePointer<Float>,
        scratch: inout [Float]
    ) {
        values.withUnsafeBufferPointer { v in
            Self.product(queries: queries, count: nq, rows: v.baseAddress! + rows.lowerBound * dimensions,
                         rowCount: rows.count, dimensions: dimensions, into: scores)
        }
    }

    /// scores (nq × rowCount) = queries (nq × d) · rowsᵀ (rowCount × d): SGEMV for one query, SGEMM for more.
    static func product(
        queries: UnsafePointer<Float>, count nq: Int, rows: UnsafePointer<Float>, rowCount: Int, dimensions: Int,
        into scores: UnsafeMutablePointer<Float>
    ) {
        if nq == 1 {
            BLAS.sgemv(m: rowCount, n: dimensions, alpha: 1, a: rows, lda: dimensions, x: queries, beta: 0, y: scores)
        } else {
            BLAS.sgemmTransposedB(m: nq, n: rowCount, k: dimensions, a: queries, lda: dimensions, b: rows,
                                  ldb: dimensions, c: scores, ldc: rowCount)
        }
    }

    func write(to writer: inout SnapshotWriter) throws(IndexError) {
        try writer.writeArray(values)
    }

    /// The values only: snapshots do not hold the sketch (reading rebuilds it).
    func frozen() -> any RowStore {
        let copy = Float32Rows(dimensions: dimensions)
        copy.values = values
        return copy
    }

    /// (The sketch is not shared with a frozen copy, so it is adopted, not copied.)
    func copy() -> any RowStore {
        let copy = Float32Rows(dimensions: dimensions)
        copy.values = values.copied()
        copy.sketch.adopt(sketch)
        return copy
    }

    static func read(from reader: inout SnapshotReader, dimensions: Int, count: Int) throws(IndexError) -> Float32Rows {
        let rows = Float32Rows(dimensions: dimensions)
        rows.values = try reader.readArray(Float.self, count: count * dimensions)
        for row in 0..<count { rows.sketch.append(rows.vector(row)) }
        return rows
    }
}

/// int8 storage: symmetric per-vector codes, v ~= code * scale with scale = max|v| / 127 (as the Embed
/// INT8 encoding). Scores decode a block of rows to floats and run the same SGEMV/SGEMM, then scale.
final class Int8Rows: RowStore, @unchecked Sendable {
    let dimensions: Int
    private(set) var codes: [Int8] = []
    private(set) var scales: [Float] = []

    init(dimensions: Int) { self.dimensions = dimensions }

    var count: Int { scales.count }
    var bytesPerVector: Int { dimensions + 4 }

    func append(_ vector: [Float]) {
        let (c, s) = Ops.int8Quantized(vector)
        codes.append(contentsOf: c)
        scales.append(s)
    }

    func replace(_ row: Int, with vector: [Float]) {
        let (c, s) = Ops.int8Quantized(vector)
        codes.replaceSubrange(row * dimensions ..< (row + 1) * dimensions, with: c)
        scales[row] = s
    }

    func removeSwappingLast(_ row: Int) {
        let last = count - 1
        if row != last {
            codes.withUnsafeMutableBufferPointer { c in
                (c.baseAddress! + row * dimensions).update(from: c.baseAddress! + last * dimensions, count: dimensions)
            }
            scales[row] = scales[last]
        }
        codes.removeLast(dimensions)
        scales.removeLast()
    }

    func vector(_ row: Int) -> [Float] {
        let scale = scales[row]
        return codes[row * dimensions ..< (row + 1) * dimensions].map { Float($0) * scale }
    }

    /// Σ query[i] · code[i] · scale for one row: the re-rank score of binary storage.
    func score(_ query: UnsafePointer<Float>, row: Int) -> Float {
        codes.withUnsafeBufferPointer { c in
            let base = c.baseAddress! + row * dimensions
            var sum = SIMD8<Float>()
            var i = 0
            while i + 8 <= dimensions {
                let q = UnsafeRawPointer(query + i).loadUnaligned(as: SIMD8<Float>.self)
                let x = SIMD8<Float>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Int8>.self))
                sum += q * x
                i += 8
            }
            var total = sum.sum()
            while i < dimensions {
                total += query[i] * Float(base[i])
                i += 1
            }
            return total * scales[row]
        }
    }

    /// scores[j] = scale_j · Σ_i query[i] · code_j[i] for each row in `rows`: one pass over the codes, 16
    /// dimensions per step (sign-extend, convert, fused multiply-add), no decoded copy.
    func scores(_ query: UnsafePointer<Float>, rows: Range<Int>, into scores: UnsafeMutablePointer<Float>) {
        let d = dimensions, full = d & ~15
        codes.withUnsafeBufferPointer { c in
            scales.withUnsafeBufferPointer { s in
                var base = c.baseAddress! + rows.lowerBound * d
                for j in 0..<rows.count {
                    var (even, odd) = (SIMD16<Float>(), SIMD16<Float>())
                    var i = 0
                    while i + 32 <= full {
                        even.addProduct(UnsafeRawPointer(query + i).loadUnaligned(as: SIMD16<Float>.self),
                                        SIMD16<Float>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Int8>.self)))
                        odd.addProduct(UnsafeRawPointer(query + i + 16).loadUnaligned(as: SIMD16<Float>.self),
                                       SIMD16<Float>(UnsafeRawPointer(base + i + 16).loadUnaligned(as: SIMD16<Int8>.self)))
                        i += 32
                    }
                    if i < full {
                        even.addProduct(UnsafeRawPointer(query + i).loadUnaligned(as: SIMD16<Float>.self),
                                        SIMD16<Float>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Int8>.self)))
                        i += 16
                    }
                    var total = (even + odd).sum()
                    while i < d {
                        total += query[i] * Float(base[i])
                        i += 1
                    }
                    scores[j] = total * s[rows.lowerBound + j]
                    base += d
                }
            }
        }
    }

    /// A row's scale: its values are within scale/2 of code·scale (rounding to the nearest code).
    func scale(row: Int) -> Float { scales[row] }

    func scores(
        queries: UnsafePointer<Float>, count nq: Int, rows: Range<Int>, into scores: UnsafeMutablePointer<Float>,
        scratch: inout [Float]
    ) {
        let d = dimensions
        if scratch.count < rows.count * d { scratch = [Float](repeating: 0, count: rows.count * d) }
        codes.withUnsafeBufferPointer { c in
            scratch.withUnsafeMutableBufferPointer { decoded in
                let source = c.baseAddress! + rows.lowerBound * d
                for i in 0 ..< rows.count * d { decoded[i] = Float(source[i]) }
                Float32Rows.product(queries: queries, count: nq, rows: decoded.baseAddress!, rowCount: rows.count,
                                    dimensions: d, into: scores)
            }
        }
        scales.withUnsafeBufferPointer { s in
            for q in 0..<nq {
                let row = scores + q * rows.count
                for j in 0..<rows.count { row[j] *= s[rows.lowerBound + j] }
            }
        }
    }

    func write(to writer: inout SnapshotWriter) throws(IndexError) {
        try writer.writeArray(codes)
        try writer.writeArray(scales)
    }

    static func read(from reader: inout SnapshotReader, dimensions: Int, count: Int) throws(IndexError) -> Int8Rows {
        let rows = Int8Rows(dimensions: dimensions)
        rows.codes = try reader.readArray(Int8.self, count: count * dimensions)
        rows.scales = try reader.readArray(Float.self, count: count)
        return rows
    }
}

/// Binary storage (Binary Embedding-based Retrieval, Tencent 2022; the sign-bit codes of Embed's BINARY
/// encoding): bit i of a row is set when v[i] > 0. A search ranks every row by the Hamming distance between
/// its bits and the query's (XOR + popcount, 64 dimensions per instruction), then re-ranks the best
/// candidates by their int8 score. The int8 codes serve the re-rank instead of the float vectors, so a
/// vector costs d/8 + d + 4 bytes instead of 4d (3.4x less at 384-d) for a measured recall cost (bench/search).
final class BinaryRows: RowStore, @unchecked Sendable {
    let dimensions: Int
    let words: Int
    private(set) var bits: [UInt64] = []
    let rerank: Int8Rows

    init(dimensions: Int) {
        self.dimensions = dimensions
        words = (dimensions + 63) / 64
        rerank = Int8Rows(dimensions: dimensions)
    }

    var count: Int { rerank.count }
    var bytesPerVector: Int { 8 * words + rerank.bytesPerVector }

    static func signBits(_ vector: UnsafePointer<Float>, dimensions: Int, into words: UnsafeMutablePointer<UInt64>) {
        for w in 0 ..< (dimensions + 63) / 64 {
            var word: UInt64 = 0
            for i in (w * 64) ..< min(dimensions, w * 64 + 64) where vector[i] > 0 {
                word |= 1 << UInt64(i - w * 64)
            }
            words[w] = word
        }
    }

    static func signBits(_ vector: [Float]) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: (vector.count + 63) / 64)
        vector.withUnsafeBufferPointer { v in
            words.withUnsafeMutableBufferPointer { signBits(v.baseAddress!, dimensions: vector.count, into: $0.baseAddress!) }
        }
        return words
    }

    func append(_ vector: [Float]) {
        bits.append(contentsOf: Self.signBits(vector))
        rerank.append(vector)
    }

    func replace(_ row: Int, with vector: [Float]) {
        bits.replaceSubrange(row * words ..< (row + 1) * words, with: Self.signBits(vector))
        rerank.replace(row, with: vector)
    }

    func removeSwappingLast(_ row: Int) {
        let last = count - 1
        if row != last {
            for w in 0..<words { bits[row * words + w] = bits[last * words + w] }
        }
        bits.removeLast(words)
        rerank.removeSwappingLast(row)
    }

    func vector(_ row: Int) -> [Float] { rerank.vector(row) }

    /// Exact int8 scores (used when a caller wants every row scored, e.g. a tiny collection).
    func scores(
        queries: UnsafePointer<Float>, count nq: Int, rows: Range<Int>, into scores: UnsafeMutablePointer<Float>,
        scratch: inout [Float]
    ) {
        rerank.scores(queries: queries, count: nq, rows: rows, into: scores, scratch: &scratch)
    }

    /// distances[j] = Hamming distance between `query` bits and row rows[j].
    func hamming(_ query: [UInt64], rows: Range<Int>, into distances: UnsafeMutablePointer<UInt16>) {
        bits.withUnsafeBufferPointer { b in
            query.withUnsafeBufferPointer { q in
                var p = b.baseAddress! + rows.lowerBound * words
                for j in 0..<rows.count {
                    var distance = 0
                    for w in 0..<words { distance += (p[w] ^ q[w]).nonzeroBitCount }
                    distances[j] = UInt16(distance)
                    p += words
                }
            }
        }
    }

    func write(to writer: inout SnapshotWriter) throws(IndexError) {
        try writer.writeArray(bits)
        try rerank.write(to: &writer)
    }

    func frozen() -> any RowStore {
        let copy = BinaryRows(dimensions: dimensions)
        copy.bits = bits
        copy.rerank.adopt(rerank)
        return copy
    }

    func copy() -> any RowStore {
        let copy = BinaryRows(dimensions: dimensions)
        copy.bits = bits.copied()
        copy.rerank.adoptCopy(of: rerank)
        return copy
    }

    static func read(from reader: inout SnapshotReader, dimensions: Int, count: Int) throws(IndexError) -> BinaryRows {
        let rows = BinaryRows(dimensions: dimensions)
        rows.bits = try reader.readArray(UInt64.self, count: count * rows.words)
        // Bits past the last dimension are 0 as we write them; set ones would count in Hamming distances beyond
        // `dimensions`, which the search's histogram does not hold.
        let used = dimensions - (rows.words - 1) * 64
        if used < 64 {
            let padding = ~UInt64(0) << UInt64(used)
            for row in 0..<count where rows.bits[row * rows.words + rows.words - 1] & padding != 0 {
                throw .corrupt(path: reader.origin, reason: "binary code \(row) has bits set past dimension \(dimensions)")
            }
        }
        let rerank = try Int8Rows.read(from: &reader, dimensions: dimensions, count: count)
        rows.rerank.adopt(rerank)
        return rows
    }
}

extension Int8Rows {
    /// Takes the codes of `other` (snapshot loading, freezing), sharing its arrays until either changes.
    func adopt(_ other: Int8Rows) {
        codes = other.codes
        scales = other.scales
    }

    func frozen() -> any RowStore {
        let copy = Int8Rows(dimensions: dimensions)
        copy.adopt(self)
        return copy
    }

    func copy() -> any RowStore {
        let copy = Int8Rows(dimensions: dimensions)
        copy.adoptCopy(of: self)
        return copy
    }

    /// Takes a copy of the codes of `other`, in arrays of its own.
    func adoptCopy(of other: Int8Rows) {
        codes = other.codes.copied()
        scales = other.scales.copied()
    }
}
