import CCPU

/// C[m, n] = act(A[m, k] · B[k, n] + bias[n]) (+ R[m, n]) with B — a layer's weight — packed once at load: the
/// product behind linear layers (`Ops.linear`) and convolutions (`Ops.conv2d`). Tolerance: every element within
/// 1e-6·k of `Reference.linear` (Double sums) for inputs in [-1, 1], with either register tile
/// (TensorTests `bothRegisterTilesMatchReference`).
///
/// Layout: B is packed at load in panels of 16 columns ([k, 16] each, contiguous, zero-padded: `PackedWeights`);
/// A is read in place (row stride lda). Rows run in cache tiles (`rowTile`) that stay in L1/L2 while every panel
/// passes, the depth in blocks of at most `depthBlock`, and the tiles of one block of B prefetch the block that
/// follows. A register tile starts from the bias (or, for a later block of depth, from C) and ends with the
/// activation and the residual add before its only store: 6 × 16 with AVX2 (`tile`, the Haswell SGEMM
/// microkernel: twelve 8-float accumulators, 12 fused multiply-adds per 2 panel loads and 6 broadcasts, 15 of
/// the 16 registers), 8 × 32 over two panels where the CPU has AVX-512 (`wideTile`). Weights packed in bfloat16
/// (`Precision`) run their own 8 × 32 tile (PackedGEMM+BFloat16.swift).
///
/// Why not OpenBLAS's SGEMM: it packs both operands on every call and runs bias, activation and residual as
/// separate passes over C, which costs as much as the arithmetic on a sentence encoder's few rows and on the long,
/// thin 1x1 convolutions of mobile networks. The measurements behind that and behind each choice above (panels,
/// tile shapes, prefetching, `depthBlock`) are in bench/text/README.md, "Why the kernels look as they do".
///
/// Needs the Tensor target compiled for the host CPU (Package.swift `-target-cpu native`): without FMA/AVX2 the
/// SIMD operations here fall back to scalar code.
enum PackedGEMM {
    static let panelWidth = 16
    /// 512-bit vectors (AVX-512F, asked of the CPU at start): thirty-two 16-float registers, so a register tile
    /// spans two panels (`wideTile`); without them the 6 × 16 AVX2 tile (`tile`).
    static let wide = rosetta_has_avx512() != 0
    /// Rows of a register tile: 8 × 32 with 512-bit vectors, 6 × 16 without.
    static func tileRows(wide: Bool) -> Int { wide ? 8 : 6 }
    static let tileRows = tileRows(wide: wide)
    /// Deepest block of a product run in one pass over a panel (k × 16 floats: 96 KiB, in L2 while a row tile
    /// runs down it). Deeper products (3×3 over 512 channels, CLIP's 32×32 patches, wide FFNs) run in blocks of
    /// this depth — OpenBLAS's cache blocking over k, in the same kernel (measured against OpenBLAS:
    /// bench/text/README.md).
    static let depthBlock = 1536

    /// Rows of A per cache tile for depth k (a block of it, when deeper): ≤ ~256 KB, so the tile stays in L2
    /// while every panel (k × 16, in L1 for small k) runs down it; B is then streamed once per tile.
    static func rowTile(k: Int, rows: Int = tileRows) -> Int {
        max(rows, min(40 * rows, 65536 / max(min(k, depthBlock), 1) / rows * rows))
    }

    /// C[m, columns] = act(A · B[:, columns] + bias[columns]) (+ R). `columns` starts on a panel boundary; A is
    /// [m, k] (row stride lda); C and R point at column `columns.lowerBound` of row 0 (strides ldc, ldr).
    /// Products deeper than `depthBlock` run one block of depth after another over the same C tile, each block
    /// starting from what the previous ones left in C; the last one applies the activation and the residual.
    static func run(m: Int, columns: Range<Int>, a: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                    activation: ConvActivation, residual: UnsafePointer<Float>?, ldr: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, wide: Bool = wide) {
        withUnsafeTemporaryAllocation(of: DepthSegment.self, capacity: 1) { segment in
            segment.initialize(repeating: DepthSegment(a: a, depth: 0..<weights.k))
            run(m: m, columns: columns, segments: UnsafeBufferPointer(segment), lda: lda, weights: weights,
                activation: activation, residual: residual, ldr: ldr, c: c, ldc: ldc, wide: wide)
        }
    }

    /// Rows of A for part of the depth: row i of A's columns `depth` is `a + i·lda` (depth.count floats). A
    /// convolution's kernel row over adjacent pixels is one: A need not exist as a matrix (`Ops.conv2d`).
    struct DepthSegment {
        let a: UnsafePointer<Float>
        let depth: Range<Int>
    }

    /// `run` with A given as depth segments (in order, together covering the depth of B that contributes; a
    /// missing part — a kernel row outside the image — counts as zeros). Each segment runs in blocks of at most
    /// `depthBlock`; the first block starts from the bias, the last applies the activation and the residual.
    static func run(m: Int, columns: Range<Int>, segments: UnsafeBufferPointer<DepthSegment>, lda: Int,
                    weights: PackedWeights, activation: ConvActivation, residual: UnsafePointer<Float>?, ldr: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, wide: Bool = wide) {
        if let pairs = weights.bfloat16Pairs {
            return runBFloat16(m: m, columns: columns, segments: segments, lda: lda, weights: weights, pairs: pairs,
                               activation: activation, residual: residual, ldr: ldr, c: c, ldc: ldc)
        }
        let k = weights.k
        let tileRows = tileRows(wide: wide), cacheRows = rowTile(k: k, rows: tileRows)
        // float16 panels are widened one block at a time into this scratch (two panels), once per row tile.
        let blockFloats = min(k, depthBlock) * panelWidth
        let scratch = weights.isHalf ? UnsafeMutablePointer<Float>.allocate(capacity: 2 * blockFloats) : nil
        defer { scratch?.deallocate() }
        var start = 0
        while start < m {
            let end = min(m, start + cacheRows)
            var j = columns.lowerBound
            while j < columns.upperBound {
                // With 512-bit vectors two panels at a time (one when a single one is left).
                let pair = wide && columns.upperBound - j > panelWidth
                let cols = min(pair ? 2 * panelWidth : panelWidth, columns.upperBound - j), col = j - columns.lowerBound
                let p = j / panelWidth
                for (s, segment) in segments.enumerated() {
                    let (lo, hi) = (segment.depth.lowerBound, segment.depth.upperBound)
                    for depth in stride(from: lo, to: max(hi, lo + 1), by: depthBlock) {
                        let block = depth..<min(hi, depth + depthBlock)
                        let last = s == segments.count - 1 && block.upperBound == hi
                        let b = weights.panel(p, depth: block, widenedInto: scratch)
                        let b1 = pair ? weights.panel(p + 1, depth: block, widenedInto: scratch.map { $0 + blockFloats }) : b
                        // The first row tile fetches the block of B that follows (bytes after b: with a pair, what
                        // follows its second panel, the same distance after each), later tiles find this one in cache.
                        let next = weights.following(pair ? p + 1 : p, depth: block) - UnsafeRawPointer(b)
                        let bias: UnsafePointer<Float>? = s == 0 && depth == lo ? UnsafePointer(weights.bias.pointer + j) : nil
                        let act = last ? activation : .none
                        var i = start
                        while i < end {
                            let rows = min(tileRows, end - i)
                            let r = last ? residual.map { $0 + i * ldr + col } : nil, out = c + i * ldc + col
                            let x = segment.a + i * lda + (depth - lo)
                            func kernel(_ prefetch: some Prefetch) {
                                if rows == 1 {
                                    row(cols: min(cols, panelWidth), k: block.count, a: x, b: b, prefetch: prefetch,
                                        bias: bias, activation: act, residual: r, c: out)
                                    if pair {
                                        row(cols: cols - panelWidth, k: block.count, a: x, b: b1, prefetch: prefetch,
                                            bias: bias.map { $0 + panelWidth }, activation: act,
                                            residual: r.map { $0 + panelWidth }, c: out + panelWidth)
                                    }
                                } else if pair {
                                    wideTile(TwoPanels.self, rows: rows, cols: cols, k: block.count, a: x, lda: lda,
                                             b: b, b1: b1, prefetch: prefetch, bias: bias, activation: act,
                                             residual: r, ldr: ldr, c: out, ldc: ldc)
                                } else if wide {
                                    wideTile(OnePanel.self, rows: rows, cols: cols, k: block.count, a: x, lda: lda,
                                             b: b, b1: b, prefetch: prefetch, bias: bias, activation: act,
                                             residual: r, ldr: ldr, c: out, ldc: ldc)
                                } else if cols <= 8 {
                                    narrowTile(rows: rows, cols: cols, k: block.count, a: x, lda: lda, b: b,
                                               prefetch: prefetch, bias: bias, activation: act, residual: r, ldr: ldr,
                                               c: out, ldc: ldc)
                                } else {
                                    tile(rows: rows, cols: cols, k: block.count, a: x, lda: lda, b: b, prefetch: prefetch,
                                         bias: bias, activation: act, residual: r, ldr: ldr, c: out, ldc: ldc)
                                }
                            }
                            if i == start { kernel(Ahead(offset: next)) } else { kernel(NoPrefetch()) }
                            i += rows
                        }
                    }
                }
                j += cols
            }
            start = end
        }
    }

    /// What a kernel fetches into cache at each step of its depth loop, given the panel row it reads there.
    /// The kernels are specialised for each: without a prefetch their loop has no trace of one.
    protocol Prefetch {
        func fetch(after row: UnsafePointer<Float>)
    }

    /// The cache line `offset` bytes after the panel row (a row of 16 floats is one line): k steps fetch the k
    /// lines from there, the block that follows.
    struct Ahead: Prefetch {
        let offset: Int
        @inline(__always) func fetch(after row: UnsafePointer<Float>) { rosetta_prefetch(UnsafeRawPointer(row) + offset) }
    }

    struct NoPrefetch: Prefetch {
        @inline(__always) func fetch(after row: UnsafePointer<Float>) {}
    }

    /// The accumulators' start for one row of C: the bias, or (nil: a later block of depth) the row of C so far.
    @inline(__always)
    private static func initial(_ bias: UnsafePointer<Float>?, cols: Int, c: UnsafeMutablePointer<Float>) -> (Vec8, Vec8) {
        if let bias { return (load8(bias), load8(bias + 8)) }
        if cols == panelWidth { return (load8(c), load8(c + 8)) }
        var (x, y) = (Vec8(), Vec8())
        for q in 0..<cols {
            if q < 8 { x[q] = c[q] } else { y[q - 8] = c[q] }
        }
        return (x, y)
    }

    /// One row of C against one panel (single-row products: a decoder step, the last row of an odd count). Two
    /// accumulator pairs over alternate k, so consecutive multiply-adds do not wait on each other.
    @inline(__always)
    private static func row(cols: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, prefetch: some Prefetch,
                            bias: UnsafePointer<Float>?, activation: ConvActivation, residual: UnsafePointer<Float>?,
                            c: UnsafeMutablePointer<Float>) {
        var (c0, d0) = initial(bias, cols: cols, c: c), (c1, d1) = (Vec8(), Vec8())
        var bp = b
        var p = 0
        while p + 2 <= k {
            prefetch.fetch(after: bp); prefetch.fetch(after: bp + panelWidth)
            var s = Vec8(repeating: a[p]); c0 = c0.addingProduct(s, load8(bp)); d0 = d0.addingProduct(s, load8(bp + 8))
            s = Vec8(repeating: a[p + 1])
            c1 = c1.addingProduct(s, load8(bp + panelWidth)); d1 = d1.addingProduct(s, load8(bp + panelWidth + 8))
            bp += 2 * panelWidth
            p += 2
        }
        if p < k {
            let s = Vec8(repeating: a[p]); c0 = c0.addingProduct(s, load8(bp)); d0 = d0.addingProduct(s, load8(bp + 8))
        }
        let (lo, hi) = activation.bounds
        storeRow(c0 + c1, d0 + d1, lo, hi, cols: cols, residual: residual, c: c)
    }

    /// One 6 × 16 tile of C (`rows` ≤ 6 valid rows, `cols` ≤ 16 valid columns). Missing rows re-read row 0 of A
    /// (their results are dropped), so the loop is always the full 6 × 16 kernel.
    @inline(__always)
    private static func tile(rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                             prefetch: some Prefetch, bias: UnsafePointer<Float>?, activation: ConvActivation,
                             residual: UnsafePointer<Float>?, ldr: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0)
        let a3 = a + (rows > 3 ? 3 * lda : 0), a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0)
        var (c0, d0) = initial(bias, cols: cols, c: c)
        var (c1, d1) = rows > 1 ? initial(bias, cols: cols, c: c + ldc) : (c0, d0)
        var (c2, d2) = rows > 2 ? initial(bias, cols: cols, c: c + 2 * ldc) : (c0, d0)
        var (c3, d3) = rows > 3 ? initial(bias, cols: cols, c: c + 3 * ldc) : (c0, d0)
        var (c4, d4) = rows > 4 ? initial(bias, cols: cols, c: c + 4 * ldc) : (c0, d0)
        var (c5, d5) = rows > 5 ? initial(bias, cols: cols, c: c + 5 * ldc) : (c0, d0)
        var bp = b
        for p in 0..<k {
            prefetch.fetch(after: bp)
            let x = load8(bp), y = load8(bp + 8)
            var s = Vec8(repeating: a0[p]); c0 = c0.addingProduct(s, x); d0 = d0.addingProduct(s, y)
            s = Vec8(repeating: a1[p]); c1 = c1.addingProduct(s, x); d1 = d1.addingProduct(s, y)
            s = Vec8(repeating: a2[p]); c2 = c2.addingProduct(s, x); d2 = d2.addingProduct(s, y)
            s = Vec8(repeating: a3[p]); c3 = c3.addingProduct(s, x); d3 = d3.addingProduct(s, y)
            s = Vec8(repeating: a4[p]); c4 = c4.addingProduct(s, x); d4 = d4.addingProduct(s, y)
            s = Vec8(repeating: a5[p]); c5 = c5.addingProduct(s, x); d5 = d5.addingProduct(s, y)
            bp += panelWidth
        }
        store(((c0, d0), (c1, d1), (c2, d2), (c3, d3), (c4, d4), (c5, d5)), rows: rows, cols: cols,
              activation: activation, residual: residual, ldr: ldr, c: c, ldc: ldc)
    }

    /// A 6 × 8 tile: the last panel of a product whose width leaves at most 8 columns there (cOut 24 or 40 of a
    /// MobileNet projection), so the panel's zero half costs no multiply-adds. Same structure as `tile`.
    @inline(__always)
    private static func narrowTile(rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                   b: UnsafePointer<Float>, prefetch: some Prefetch, bias: UnsafePointer<Float>?,
                                   activation: ConvActivation,
                                   residual: UnsafePointer<Float>?, ldr: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0)
        let a3 = a + (rows > 3 ? 3 * lda : 0), a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0)
        var c0 = initial(bias, cols: cols, c: c).0
        var c1 = rows > 1 ? initial(bias, cols: cols, c: c + ldc).0 : c0
        var c2 = rows > 2 ? initial(bias, cols: cols, c: c + 2 * ldc).0 : c0
        var c3 = rows > 3 ? initial(bias, cols: cols, c: c + 3 * ldc).0 : c0
        var c4 = rows > 4 ? initial(bias, cols: cols, c: c + 4 * ldc).0 : c0
        var c5 = rows > 5 ? initial(bias, cols: cols, c: c + 5 * ldc).0 : c0
        var bp = b
        for p in 0..<k {
            prefetch.fetch(after: bp)
            let x = load8(bp)
            c0 = c0.addingProduct(Vec8(repeating: a0[p]), x); c1 = c1.addingProduct(Vec8(repeating: a1[p]), x)
            c2 = c2.addingProduct(Vec8(repeating: a2[p]), x); c3 = c3.addingProduct(Vec8(repeating: a3[p]), x)
            c4 = c4.addingProduct(Vec8(repeating: a4[p]), x); c5 = c5.addingProduct(Vec8(repeating: a5[p]), x)
            bp += panelWidth
        }
        let none = Vec8()
        store(((c0, none), (c1, none), (c2, none), (c3, none), (c4, none), (c5, none)), rows: rows, cols: cols,
              activation: activation, residual: residual, ldr: ldr, c: c, ldc: ldc)
    }

    /// How many panels a `wideTile` spans: its two variants are one source, specialised.
    protocol TileWidth { static var pair: Bool { get } }
    enum OnePanel: TileWidth { static var pair: Bool { false } }
    enum TwoPanels: TileWidth { static var pair: Bool { true } }

    /// An 8 × 32 tile of C over two panels (`b`, `b1`) with 512-bit vectors: sixteen 16-float accumulators, 16
    /// multiply-adds per 2 panel loads and 8 broadcasts (folded into the multiply-adds as memory operands), 18 of
    /// the 32 registers. `OnePanel`: 8 × 16 over `b` alone (the last panel of an odd count). `rows` ≤ 8 valid
    /// rows (missing rows re-read row 0 of A, their results dropped), `cols` ≤ 32 (16) valid columns.
    @inline(__always)
    private static func wideTile<W: TileWidth>(_ width: W.Type, rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>,
                                               lda: Int, b: UnsafePointer<Float>, b1: UnsafePointer<Float>,
                                               prefetch: some Prefetch, bias: UnsafePointer<Float>?,
                                               activation: ConvActivation, residual: UnsafePointer<Float>?, ldr: Int,
                                               c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0), a3 = a + (rows > 3 ? 3 * lda : 0)
        let a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0), a6 = a + (rows > 6 ? 6 * lda : 0)
        let a7 = a + (rows > 7 ? 7 * lda : 0)
        let start = initial16(bias, cols: cols, c: c)
        var (c0, d0) = start
        var (c1, d1) = rows > 1 ? initial16(bias, cols: cols, c: c + ldc) : start
        var (c2, d2) = rows > 2 ? initial16(bias, cols: cols, c: c + 2 * ldc) : start
        var (c3, d3) = rows > 3 ? initial16(bias, cols: cols, c: c + 3 * ldc) : start
        var (c4, d4) = rows > 4 ? initial16(bias, cols: cols, c: c + 4 * ldc) : start
        var (c5, d5) = rows > 5 ? initial16(bias, cols: cols, c: c + 5 * ldc) : start
        var (c6, d6) = rows > 6 ? initial16(bias, cols: cols, c: c + 6 * ldc) : start
        var (c7, d7) = rows > 7 ? initial16(bias, cols: cols, c: c + 7 * ldc) : start
        var (bp, bq) = (b, b1)
        for p in 0..<k {
            prefetch.fetch(after: bp)
            if W.pair { prefetch.fetch(after: bq) }
            let x = load16(bp), y = W.pair ? load16(bq) : x
            var s = Vec16(repeating: a0[p]); c0 = c0.addingProduct(s, x); if W.pair { d0 = d0.addingProduct(s, y) }
            s = Vec16(repeating: a1[p]); c1 = c1.addingProduct(s, x); if W.pair { d1 = d1.addingProduct(s, y) }
            s = Vec16(repeating: a2[p]); c2 = c2.addingProduct(s, x); if W.pair { d2 = d2.addingProduct(s, y) }
            s = Vec16(repeating: a3[p]); c3 = c3.addingProduct(s, x); if W.pair { d3 = d3.addingProduct(s, y) }
            s = Vec16(repeating: a4[p]); c4 = c4.addingProduct(s, x); if W.pair { d4 = d4.addingProduct(s, y) }
            s = Vec16(repeating: a5[p]); c5 = c5.addingProduct(s, x); if W.pair { d5 = d5.addingProduct(s, y) }
            s = Vec16(repeating: a6[p]); c6 = c6.addingProduct(s, x); if W.pair { d6 = d6.addingProduct(s, y) }
            s = Vec16(repeating: a7[p]); c7 = c7.addingProduct(s, x); if W.pair { d7 = d7.addingProduct(s, y) }
            bp += panelWidth
            bq += panelWidth
        }
        let (lo, hi) = activation.bounds16
        storeRow16(c0, d0, lo, hi, cols: cols, residual: residual, c: c)
        if rows > 1 { storeRow16(c1, d1, lo, hi, cols: cols, residual: residual.map { $0 + ldr }, c: c + ldc) }
        if rows > 2 { storeRow16(c2, d2, lo, hi, cols: cols, residual: residual.map { $0 + 2 * ldr }, c: c + 2 * ldc) }
        if rows > 3 { storeRow16(c3, d3, lo, hi, cols: cols, residual: residual.map { $0 + 3 * ldr }, c: c + 3 * ldc) }
        if rows > 4 { storeRow16(c4, d4, lo, hi, cols: cols, residual: residual.map { $0 + 4 * ldr }, c: c + 4 * ldc) }
        if rows > 5 { storeRow16(c5, d5, lo, hi, cols: cols, residual: residual.map { $0 + 5 * ldr }, c: c + 5 * ldc) }
        if rows > 6 { storeRow16(c6, d6, lo, hi, cols: cols, residual: residual.map { $0 + 6 * ldr }, c: c + 6 * ldc) }
        if rows > 7 { storeRow16(c7, d7, lo, hi, cols: cols, residual: residual.map { $0 + 7 * ldr }, c: c + 7 * ldc) }
    }

    /// `initial` for a wide tile's row: 16 columns, and the next 16 when `cols` > 16 (a pair).
    @inline(__always)
    static func initial16(_ bias: UnsafePointer<Float>?, cols: Int, c: UnsafeMutablePointer<Float>) -> (Vec16, Vec16) {
        if let bias { return (load16(bias), cols > panelWidth ? load16(bias + panelWidth) : Vec16()) }
        if cols == 2 * panelWidth { return (load16(c), load16(c + panelWidth)) }
        var (x, y) = (Vec16(), Vec16())
        for q in 0..<cols {
            if q < panelWidth { x[q] = c[q] } else { y[q - panelWidth] = c[q] }
        }
        return (x, y)
    }

    /// `storeRow` for a wide tile's row: clamps, adds the residual row, stores `cols` (≤ 32) columns.
    @_transparent
    static func storeRow16(_ a: Vec16, _ b: Vec16, _ lo: Vec16, _ hi: Vec16, cols: Int,
                           residual: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) {
        var (a, b) = (vclamp(a, lo, hi), vclamp(b, lo, hi))
        if cols >= panelWidth {
            if let residual { a += load16(residual) }
            store16(a, c)
        }
        if cols == 2 * panelWidth {
            if let residual { b += load16(residual + panelWidth) }
            store16(b, c + panelWidth)
        } else {
            for q in (cols >= panelWidth ? panelWidth : 0)..<cols {
                let v = q < panelWidth ? a[q] : b[q - panelWidth]
                c[q] = residual.map { v + $0[q] } ?? v
            }
        }
    }

    /// The `rows` valid rows of a 6-row tile (columns 0 ..< 8 and 8 ..< 16 of each), through `storeRow`.
    @_transparent
    static func store(_ t: ((Vec8, Vec8), (Vec8, Vec8), (Vec8, Vec8), (Vec8, Vec8), (Vec8, Vec8), (Vec8, Vec8)),
                      rows: Int, cols: Int, activation: ConvActivation, residual: UnsafePointer<Float>?, ldr: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        let (lo, hi) = activation.bounds
        storeRow(t.0.0, t.0.1, lo, hi, cols: cols, residual: residual, c: c)
        if rows > 1 { storeRow(t.1.0, t.1.1, lo, hi, cols: cols, residual: residual.map { $0 + ldr }, c: c + ldc) }
        if rows > 2 { storeRow(t.2.0, t.2.1, lo, hi, cols: cols, residual: residual.map { $0 + 2 * ldr }, c: c + 2 * ldc) }
        if rows > 3 { storeRow(t.3.0, t.3.1, lo, hi, cols: cols, residual: residual.map { $0 + 3 * ldr }, c: c + 3 * ldc) }
        if rows > 4 { storeRow(t.4.0, t.4.1, lo, hi, cols: cols, residual: residual.map { $0 + 4 * ldr }, c: c + 4 * ldc) }
        if rows > 5 { storeRow(t.5.0, t.5.1, lo, hi, cols: cols, residual: residual.map { $0 + 5 * ldr }, c: c + 5 * ldc) }
    }

    /// Clamps one row of the tile to [lo, hi] (the activation), adds the residual row, stores `cols` columns.
    /// `@_transparent`, not `@inline(__always)`: with the latter the compiler keeps an out-of-line call per tile
    /// row, its vectors passed through memory (bench/vision/README.md).
    @_transparent
    static func storeRow(_ a: Vec8, _ b: Vec8, _ lo: Vec8, _ hi: Vec8, cols: Int,
                         residual: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>) {
        var (a, b) = (clamp8(a, lo, hi), clamp8(b, lo, hi))
        if cols == panelWidth {
            if let residual { a += load8(residual); b += load8(residual + 8) }
            store8(a, c); store8(b, c + 8)
        } else if cols == 8 {
            if let residual { a += load8(residual) }
            store8(a, c)
        } else {
            for q in 0..<cols {
                let v = q < 8 ? a[q] : b[q - 8]
                c[q] = residual.map { v + $0[q] } ?? v
            }
        }
    }
}

/// A weight packed for `PackedGEMM` at load: W [n, k] (PyTorch's [dOut, dIn], a convolution's
/// [cOut, kh·kw·cIn]) as panels [ceil(n / 16), k, 16] — panel p holds columns 16p ..< 16p + 16 of Wᵀ, row after
/// row, zero-padded — and the bias (or zeros) padded to whole panels. A float16 checkpoint's weights stay float16
/// in their panels (half the memory of widening them at load, and half the bytes a single-row product reads);
/// `PackedGEMM.run` widens each panel as it comes to it, so the products are the same as with widened weights.
/// Weights asked for in `Precision.bfloat16` are rounded to bfloat16 and packed in pairs of rows (see `Panels`).
public struct PackedWeights: Sendable {
    private let panels: Panels
    let bias: Tensor
    /// Output columns (W's rows) and depth.
    let n: Int, k: Int

    private enum Panels: Sendable {
        case float32(Tensor)
        case float16(HalfBuffer)
        /// [panels, k/2 (rounded up), 16, 2]: rows 2i and 2i + 1 of a column side by side, the pairs that
        /// vdpbf16ps multiplies and adds (`PackedGEMM.runBFloat16`).
        case bfloat16(HalfBuffer)
    }

    /// `precision` .bfloat16 rounds W to bfloat16 pairs where the CPU multiplies them
    /// (`Precision.bfloat16Supported`), else packs float32.
    init(_ w: UnsafePointer<Float>, n: Int, k: Int, bias: Tensor?, precision: Precision = .float32) {
        if precision == .bfloat16 && Precision.bfloat16Supported {
            let width = PackedGEMM.panelWidth, panelSize = Self.pairs(k) * 2 * width
            let panels = HalfBuffer(count: Self.panelCount(n) * panelSize)
            panels.pointer.initialize(repeating: 0, count: Self.panelCount(n) * panelSize)
            for o in 0..<n {
                let dst = panels.pointer + (o / width) * panelSize + (o % width) * 2
                for i in 0..<k { dst[(i / 2) * 2 * width + i % 2] = bfloat16Bits(w[o * k + i]) }
            }
            self.init(.bfloat16(panels), n: n, k: k, bias: bias)
            return
        }
        let panels = Tensor(zeros: [Self.panelCount(n), k, PackedGEMM.panelWidth])
        Self.pack(n: n, k: k, into: panels.pointer) { w[$0] }
        self.init(.float32(panels), n: n, k: k, bias: bias)
    }

    /// W as `n × k` little-endian float16 values at `raw` (any alignment), packed without widening.
    init(float16 raw: UnsafeRawPointer, n: Int, k: Int, bias: Tensor?) {
        let count = Self.panelCount(n) * k * PackedGEMM.panelWidth
        let panels = HalfBuffer(count: count)
        panels.pointer.initialize(repeating: 0, count: count)
        Self.pack(n: n, k: k, into: panels.pointer) { halfBits(raw, $0) }
        self.init(.float16(panels), n: n, k: k, bias: bias)
    }

    /// `bias` [n] (any strides) is copied.
    private init(_ panels: Panels, n: Int, k: Int, bias: Tensor?) {
        self.panels = panels
        self.bias = Tensor(zeros: [Self.panelCount(n) * PackedGEMM.panelWidth])
        if let bias { for (i, v) in bias.toArray().prefix(n).enumerated() { self.bias.pointer[i] = v } }
        (self.n, self.k) = (n, k)
    }

    var isHalf: Bool {
        if case .float16 = panels { true } else { false }
    }

    /// Pairs of rows per panel (k / 2 rounded up) when the panels hold bfloat16 pairs, else nil.
    var bfloat16Pairs: Int? {
        if case .bfloat16 = panels { Self.pairs(k) } else { nil }
    }

    /// Where bfloat16 panel `p` starts (its pairs follow each other, 16 × 2 values each).
    func bfloat16Panel(_ p: Int) -> UnsafePointer<UInt16> {
        guard case .bfloat16(let pairs) = panels else { preconditionFailure("PackedWeights: not bfloat16 panels") }
        return UnsafePointer(pairs.pointer + p * Self.pairs(k) * 2 * PackedGEMM.panelWidth)
    }

    /// Rows `depth` of panel `p` [k, 16] as float32: in place, or widened into `scratch` (depth.count × 16
    /// floats) for float16 panels.
    @inline(__always)
    func panel(_ p: Int, depth: Range<Int>, widenedInto scratch: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        let offset = (p * k + depth.lowerBound) * PackedGEMM.panelWidth
        switch panels {
        case .float32(let t):
            return UnsafePointer(t.pointer + offset)
        case .bfloat16:
            preconditionFailure("PackedWeights: bfloat16 panels run in PackedGEMM.runBFloat16")
        case .float16(let half):
            guard let scratch else { preconditionFailure("PackedWeights: float16 panels need a scratch panel") }
            widen(half.pointer + offset, count: depth.count * PackedGEMM.panelWidth, into: scratch)
            return UnsafePointer(scratch)
        }
    }

    /// Where the panels continue after rows `depth` of panel `p`: what `PackedGEMM.run` reads next (the next
    /// block of depth, or the next panel). Past the end after the last panel: only ever prefetched, never read.
    func following(_ p: Int, depth: Range<Int>) -> UnsafeRawPointer {
        let end = (p * k + depth.upperBound) * PackedGEMM.panelWidth
        return switch panels {
        case .float32(let t): UnsafeRawPointer(t.pointer + end)
        case .float16(let half): UnsafeRawPointer(half.pointer + end)
        case .bfloat16: preconditionFailure("PackedWeights: bfloat16 panels run in PackedGEMM.runBFloat16")
        }
    }

    /// [panels, k, 16], and element [panel, row, column] (widened): for tests of the layout.
    var shape: [Int] { [Self.panelCount(n), k, PackedGEMM.panelWidth] }
    subscript(panel: Int, row: Int, column: Int) -> Float {
        let i = (panel * k + row) * PackedGEMM.panelWidth + column
        switch panels {
        case .float32(let t): return t.pointer[i]
        case .float16(let half): return Float(Float16(bitPattern: half.pointer[i]))
        case .bfloat16:
            let pair = bfloat16Panel(panel) + (row / 2) * 2 * PackedGEMM.panelWidth + column * 2
            return Float(bitPattern: UInt32(pair[row % 2]) << 16)
        }
    }

    private static func panelCount(_ n: Int) -> Int { (n + PackedGEMM.panelWidth - 1) / PackedGEMM.panelWidth }

    /// Pairs of rows a bfloat16 panel holds for depth k (the last one zero-padded when k is odd).
    private static func pairs(_ k: Int) -> Int { (k + 1) / 2 }

    /// Writes W's element [o, i] (`value(o * k + i)`) to panel o / 16, row i, column o % 16.
    private static func pack<T>(n: Int, k: Int, into panels: UnsafeMutablePointer<T>, value: (Int) -> T) {
        let width = PackedGEMM.panelWidth
        for o in 0..<n {
            let dst = panels + (o / width) * k * width + o % width
            for i in 0..<k { dst[i * width] = value(o * k + i) }
        }
    }
}

typealias Vec8 = SIMD8<Float>

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vec8 { UnsafeRawPointer(p).loadUnaligned(as: Vec8.self) }

@inline(__always)
func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self) }

/// Lane-wise max(lo, min(x, hi)) (compare + blend, see `vclamp`). Concrete, as `vclamp` is: a generic version
/// over `SIMD` compiles to an out-of-line call per use (bench/vision/README.md).
@inline(__always)
func clamp8(_ v: Vec8, _ lo: Vec8, _ hi: Vec8) -> Vec8 {
    v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
}

extension ConvActivation {
    /// The activation as a clamp to [lo, hi] (±infinity where unbounded), for branch-free kernels.
    @inline(__always)
    var limits: (lo: Float, hi: Float) {
        switch self {
        case .none: (-.infinity, .infinity)
        case .relu: (0, .infinity)
        case .relu6: (0, 6)
        }
    }

    /// `limits` in 8-float vectors (the AVX2 tiles) and in 16-float ones (the 512-bit tile).
    @inline(__always)
    var bounds: (lo: Vec8, hi: Vec8) { (Vec8(repeating: limits.lo), Vec8(repeating: limits.hi)) }
    @inline(__always)
    var bounds16: (lo: Vec16, hi: Vec16) { (Vec16(repeating: limits.lo), Vec16(repeating: limits.hi)) }
}
