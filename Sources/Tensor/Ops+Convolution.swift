/// 2-D convolutions on channels-last images: x [batch, height, width, channels] (NHWC), so a pixel's channels
/// are contiguous and a 1x1 convolution is one matrix product over all pixels.
///
/// - Dense convolutions (`conv2d`) run on `PackedGEMM`: a 1x1 convolution with stride 1 multiplies the image
///   itself; a larger kernel's rows inside the image are read in place as depth segments of the product, and only
///   the pixels whose kernel rows cross the left or right border go through im2col (one cache tile at a time).
/// - Depthwise convolutions (`depthwiseConv2d`, groups == channels) run as a direct loop: each output pixel
///   accumulates kh·kw rows of C contiguous products in registers (`DepthwiseQuad`): 8 pixels × 8 channels with
///   the window sliding along the row for 3- and 5-wide kernels, else 4 pixels × 16 channels.
///   im2col would copy kh·kw times the image to multiply it by a diagonal.
/// Reference versions: `Reference.conv2d` (any groups, the PyTorch OIHW weight layout), tested against both.

/// Zero padding of a 2-D convolution on each side, in pixels. TensorFlow's SAME padding is asymmetric (the odd
/// pixel goes at the bottom/right), which EfficientNet checkpoints ported from TensorFlow depend on.
public struct Padding2D: Sendable, Equatable {
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    public static func symmetric(_ p: Int) -> Padding2D { Padding2D(top: p, left: p, bottom: p, right: p) }

    /// TensorFlow "SAME": output = ceil(input / stride); total padding max((out-1)·stride + kernel - input, 0),
    /// half (rounded down) before, the rest after (efficientnet_pytorch's Conv2dStaticSamePadding).
    public static func same(height: Int, width: Int, kernel: Int, stride: Int) -> Padding2D {
        func total(_ n: Int) -> Int { max(((n + stride - 1) / stride - 1) * stride + kernel - n, 0) }
        let (ph, pw) = (total(height), total(width))
        return Padding2D(top: ph / 2, left: pw / 2, bottom: ph - ph / 2, right: pw - pw / 2)
    }

    /// Output columns (of `outputWidth`) whose kernel rows lie inside an image of `width` columns: no left or
    /// right padding read, so their taps need no bounds checks.
    public func interior(width: Int, kernel: Int, stride: Int, outputWidth: Int) -> Range<Int> {
        let lo = min(outputWidth, (left + stride - 1) / stride)
        let last = width - kernel + left  // the largest ox·stride whose kernel row ends inside
        return last < 0 ? lo..<lo : lo..<max(lo, min(outputWidth, last / stride + 1))
    }

    /// The taps t ∈ 0 ..< `kernel` of a kernel placed at `start` (a row or column, possibly in the padding) that
    /// fall inside an image of `extent`: 0 ≤ start + t < extent. Empty when the kernel lies wholly in the padding.
    static func taps(start: Int, kernel: Int, extent: Int) -> Range<Int> {
        let lo = max(0, -start)
        return lo..<max(lo, min(kernel, extent - start))
    }

    /// The input rows (of `height`) that output rows `outputs` read, and the padding under which a convolution
    /// over those rows alone gives exactly those output rows: the top and bottom padding only where the band's
    /// kernels reach past the image's (a band of an image computed at a time, kept in cache). The rows are the
    /// band's window clipped to the image as `taps` clips a kernel: empty (not inverted) for a band wholly in
    /// the padding.
    public func band(_ outputs: Range<Int>, height: Int, kernel: Int, stride: Int) -> (rows: Range<Int>, padding: Padding2D) {
        let start = outputs.lowerBound * stride - top, end = (outputs.upperBound - 1) * stride - top + kernel
        let inside = Self.taps(start: start, kernel: end - start, extent: height)
        let rows = (start + inside.lowerBound)..<(start + inside.upperBound)
        return (rows, Padding2D(top: inside.lowerBound, left: left, bottom: end - rows.upperBound, right: right))
    }

    /// Output extent of a convolution with this padding.
    public func outputSize(height: Int, width: Int, kernel: (Int, Int), stride: Int) -> (height: Int, width: Int) {
        ((height + top + bottom - kernel.0) / stride + 1, (width + left + right - kernel.1) / stride + 1)
    }
}

/// Elementwise function applied to a convolution's output in the same pass.
public enum ConvActivation: Sendable, Equatable {
    case none
    /// min(max(x, 0), 6) (MobileNet/EfficientNet-Lite).
    case relu6
    /// max(x, 0).
    case relu
}

/// A dense convolution prepared at load: the PyTorch weight [cOut, cIn, kh, kw] reordered to [cOut, kh·kw·cIn]
/// (patch order: row, column, channel — the order im2col writes), then packed for `PackedGEMM`.
public struct ConvWeights: Sendable {
    public let kernel: (height: Int, width: Int)
    public let cIn: Int
    public let cOut: Int
    /// Patch depth kh·kw·cIn (the k of the product).
    public var depth: Int { kernel.height * kernel.width * cIn }
    let packed: PackedWeights

    /// From the PyTorch layout: weight [cOut, cIn, kh, kw], bias [cOut] (copied); `precision` as for
    /// `LinearWeights`.
    public init(weight: Tensor, bias: Tensor?, precision: Precision = .float32) throws(TensorError) {
        guard weight.rank == 4, weight.isContiguous else {
            throw .shapeMismatch(op: "ConvWeights", expected: [-1, -1, -1, -1], actual: weight.shape)
        }
        let (cOut, cIn, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        if let bias { try Ops.requireVector("ConvWeights.bias", bias, count: cOut) }
        var patch = [Float](repeating: 0, count: cOut * kh * kw * cIn)
        let w = weight.pointer
        for o in 0..<cOut {
            for c in 0..<cIn {
                for dy in 0..<kh {
                    for dx in 0..<kw {
                        patch[o * kh * kw * cIn + (dy * kw + dx) * cIn + c] = w[((o * cIn + c) * kh + dy) * kw + dx]
                    }
                }
            }
        }
        packed = patch.withUnsafeBufferPointer { p in PackedWeights(p.baseAddress!, n: cOut, k: kh * kw * cIn, bias: bias,
                                                                          precision: precision) }
        weight.releaseMappedPages()
        kernel = (kh, kw)
        self.cIn = cIn
        self.cOut = cOut
    }
}

/// A depthwise convolution: weight [kh, kw, C] (channels innermost, as the direct kernel reads it), bias [C].
public struct DepthwiseWeights: Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let kernel: (height: Int, width: Int)
    public var channels: Int { weight.shape[2] }

    /// From the PyTorch layout: weight [C, 1, kh, kw], bias [C] (copied).
    public init(weight: Tensor, bias: Tensor) throws(TensorError) {
        guard weight.rank == 4, weight.shape[1] == 1, weight.isContiguous else {
            throw .shapeMismatch(op: "DepthwiseWeights", expected: [-1, 1, -1, -1], actual: weight.shape)
        }
        let (c, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        try Ops.requireVector("DepthwiseWeights.bias", bias, count: c)
        var hwc = [Float](repeating: 0, count: c * kh * kw)
        for ch in 0..<c {
            for k in 0..<(kh * kw) { hwc[k * c + ch] = weight.pointer[ch * kh * kw + k] }
        }
        self.weight = try Tensor(shape: [kh, kw, c], values: hwc)
        self.bias = bias.copy()
        kernel = (kh, kw)
    }
}

/// Where the patch of each output pixel comes from: writes im2col rows (kh·kw·cIn each, zero outside the image).
struct Im2col {
    let h: Int, w: Int, c: Int, ho: Int, wo: Int, kernel: (height: Int, width: Int), stride: Int, padding: Padding2D

    /// Patches of output pixels `rows` (flat over batch, y, x) into `dst` [rows.count, kh·kw·c].
    func patches(_ x: UnsafePointer<Float>, rows: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let span = kernel.width * c, k = kernel.height * span
        var (n, oy, ox) = (rows.lowerBound / (ho * wo), rows.lowerBound / wo % ho, rows.lowerBound % wo)
        for i in 0..<rows.count {
            let out = dst + i * k
            let ix0 = ox * stride - padding.left
            for dy in 0..<kernel.height {
                let iy = oy * stride + dy - padding.top
                let to = out + dy * span
                guard iy >= 0 && iy < h else {
                    to.update(repeating: 0, count: span)
                    continue
                }
                for dx in 0..<kernel.width {
                    let ix = ix0 + dx
                    if ix >= 0 && ix < w {
                        Self.copy(x + ((n * h + iy) * w + ix) * c, to + dx * c, count: c)
                    } else {
                        (to + dx * c).update(repeating: 0, count: c)
                    }
                }
            }
            ox += 1
            if ox == wo { (ox, oy) = (0, oy + 1) }
            if oy == ho { (oy, n) = (0, n + 1) }
        }
    }

    /// Copies `count` floats in 8-float vectors (a pixel's channels: a stem's 3 are not worth a memmove call).
    @inline(__always)
    private static func copy(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { store8(load8(from + i), to + i); i += 8 }
        while i < count { to[i] = from[i]; i += 1 }
    }
}

extension Ops {
    /// y = act(conv(x, w) + b) (+ residual): x [B, H, W, cIn], y and residual [B, Ho, Wo, cOut]. `workers`
    /// split the output pixels (or, for few pixels, the output channels). A 1x1 stride-1 convolution multiplies
    /// the image in place; others read each kernel row that lies inside the image in place too (one depth segment
    /// of the product per kernel row) and build im2col patches only for pixels at the left and right borders.
    public static func conv2d(_ x: Tensor, _ w: ConvWeights, stride: Int, padding: Padding2D,
                              activation: ConvActivation = .none, residual: Tensor? = nil, workers: Int = 1,
                              into y: Tensor) throws(TensorError) {
        let (batch, h, wd, cIn) = try nhwc("conv2d", x)
        guard cIn == w.cIn else { throw .incompatibleShapes(op: "conv2d", lhs: x.shape, rhs: [w.cOut, w.cIn]) }
        let (ho, wo) = padding.outputSize(height: h, width: wd, kernel: w.kernel, stride: stride)
        try requireShape("conv2d", y, [batch, ho, wo, w.cOut])
        guard y.isContiguous else { throw .notContiguous(op: "conv2d", shape: y.shape, strides: y.strides) }
        if let residual {
            try requireShape("conv2d.residual", residual, y.shape)
            guard residual.isContiguous else {
                throw .notContiguous(op: "conv2d.residual", shape: residual.shape, strides: residual.strides)
            }
        }
        let geometry = Im2col(h: h, w: wd, c: cIn, ho: ho, wo: wo, kernel: w.kernel, stride: stride, padding: padding)
        let (kh, kw) = w.kernel
        let interior = padding.interior(width: wd, kernel: kw, stride: stride, outputWidth: wo)
        let pointwise = w.kernel == (1, 1) && stride == 1 && padding == .symmetric(0)
        let (rows, k, n) = (batch * ho * wo, w.depth, w.cOut)
        let packed = w.packed
        // Few pixels (the 7×7 stages): split the output channels by panels; otherwise the pixels.
        let byColumns = workers > 1 && rows < 16 * PackedGEMM.tileRows && n >= 2 * workers * PackedGEMM.panelWidth
        let parts = byColumns ? Parallel.blocks(n, parts: workers, align: PackedGEMM.panelWidth)
                              : Parallel.blocks(rows, parts: max(1, workers), align: PackedGEMM.tileRows)
        Parallel.forEach(parts.count) { part in
            let (rowRange, cols) = byColumns ? (0..<rows, parts[part]) : (parts[part], 0..<n)
            let outRows = y.pointer + rowRange.lowerBound * n + cols.lowerBound
            let resRows = residual.map { $0.pointer + rowRange.lowerBound * n + cols.lowerBound }
            if pointwise {
                PackedGEMM.run(m: rowRange.count, columns: cols, a: x.pointer + rowRange.lowerBound * k, lda: k,
                               weights: packed, activation: activation, residual: resRows, ldr: n, c: outRows, ldc: n)
                return
            }
            // im2col one cache tile of output pixels at a time into a small scratch: the pixels whose kernel rows
            // cross the image's left or right border, or all of them when no kernel row is inside.
            let tile = PackedGEMM.rowTile(k: k)
            let patches = UnsafeMutablePointer<Float>.allocate(capacity: tile * k)
            defer { patches.deallocate() }
            func viaIm2col(_ rows: Range<Int>) {
                var start = rows.lowerBound
                while start < rows.upperBound {
                    let count = min(tile, rows.upperBound - start), offset = (start - rowRange.lowerBound) * n
                    geometry.patches(x.pointer, rows: start..<(start + count), into: patches)
                    PackedGEMM.run(m: count, columns: cols, a: patches, lda: k, weights: packed, activation: activation,
                                   residual: resRows.map { $0 + offset }, ldr: n, c: outRows + offset, ldc: n)
                    start += count
                }
            }
            // Elsewhere no copy: a kernel row inside the image is kw adjacent pixels, kw·cIn contiguous floats, and
            // the next output pixel's starts stride·cIn later — rows of a matrix (row stride stride·cIn) that
            // PackedGEMM reads in place, one depth segment per kernel row.
            withUnsafeTemporaryAllocation(of: PackedGEMM.DepthSegment.self, capacity: kh) { segments in
                var r = rowRange.lowerBound
                while r < rowRange.upperBound {
                    let (image, oy, ox) = (r / (ho * wo), r / wo % ho, r % wo)
                    let rowStart = r - ox, rowEnd = min(rowRange.upperBound, rowStart + wo)
                    let iy0 = oy * stride - padding.top
                    let taps = Padding2D.taps(start: iy0, kernel: kh, extent: h)
                    // This part's pixels of the row whose kernel rows lie inside the image horizontally.
                    let innerStart = min(rowEnd, max(r, rowStart + interior.lowerBound))
                    let inner = innerStart..<max(innerStart, min(rowEnd, rowStart + interior.upperBound))
                    guard !taps.isEmpty, !inner.isEmpty else {
                        viaIm2col(r..<rowEnd)
                        r = rowEnd
                        continue
                    }
                    viaIm2col(r..<inner.lowerBound)
                    let origin = x.pointer + ((image * h + iy0) * wd + (inner.lowerBound - rowStart) * stride - padding.left) * cIn
                    for (i, dy) in taps.enumerated() {
                        segments[i] = PackedGEMM.DepthSegment(a: origin + dy * wd * cIn, depth: (dy * kw * cIn)..<((dy + 1) * kw * cIn))
                    }
                    let offset = (inner.lowerBound - rowRange.lowerBound) * n
                    PackedGEMM.run(m: inner.count, columns: cols, segments: UnsafeBufferPointer(rebasing: segments[0..<taps.count]),
                                   lda: stride * cIn, weights: packed, activation: activation,
                                   residual: resRows.map { $0 + offset }, ldr: n, c: outRows + offset, ldc: n)
                    viaIm2col(inner.upperBound..<rowEnd)
                    r = rowEnd
                }
            }
        }
    }

    /// Max pooling over non-overlapping 2×2 windows (a trailing odd row or column is dropped, as PyTorch's
    /// `max_pool2d(kernel_size=2)`): x [B, H, W, C] -> [B, H/2, W/2, C].
    public static func maxPool2x2(_ x: Tensor) throws(TensorError) -> Tensor {
        let (batch, h, w, c) = try nhwc("maxPool2x2", x)
        let (ho, wo) = (h / 2, w / 2)
        let y = Tensor(zeros: [batch, ho, wo, c])
        let (src, dst) = (x.pointer, y.pointer)
        for n in 0..<batch {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    let out = dst + ((n * ho + oy) * wo + ox) * c
                    let a = src + ((n * h + 2 * oy) * w + 2 * ox) * c
                    let b = a + w * c
                    for ch in 0..<c { out[ch] = max(max(a[ch], a[c + ch]), max(b[ch], b[c + ch])) }
                }
            }
        }
        return y
    }

    /// Depthwise convolution: y[n, oy, ox, c] = act(b[c] + Σ x[n, iy, ix, c]·w[dy, dx, c]).
    public static func depthwiseConv2d(_ x: Tensor, _ w: DepthwiseWeights, stride: Int, padding: Padding2D,
                                       activation: ConvActivation = .none, workers: Int = 1,
                                       into y: Tensor) throws(TensorError) {
        let (batch, h, wd, c) = try nhwc("depthwiseConv2d", x)
        guard c == w.channels else {
            throw .incompatibleShapes(op: "depthwiseConv2d", lhs: x.shape, rhs: w.weight.shape)
        }
        let (ho, wo) = padding.outputSize(height: h, width: wd, kernel: w.kernel, stride: stride)
        try requireShape("depthwiseConv2d", y, [batch, ho, wo, c])
        guard y.isContiguous else { throw .notContiguous(op: "depthwiseConv2d", shape: y.shape, strides: y.strides) }
        let (kh, kw) = w.kernel
        let c16 = c / 16 * 16
        // Output columns whose kw taps all fall inside the image (no bounds checks there).
        let interior = padding.interior(width: wd, kernel: kw, stride: stride, outputWidth: wo)
        let (oxLo, oxHi) = (interior.lowerBound, interior.upperBound)
        let blocks = Parallel.blocks(batch * ho, parts: max(1, workers), align: 1)
        Parallel.forEach(blocks.count) { b in
            let (wp, bp) = (w.weight.pointer, w.bias.pointer)
            let (lo, hi) = activation.bounds
            let geometry = DepthwiseQuad(c: c, rowStride: wd * c, step: stride * c, kw: kw, weights: wp, bias: bp,
                                         lo: lo, hi: hi)
            /// Output row `outRow`: its first input row, the kernel rows inside the image, the image, the output row.
            func place(_ outRow: Int) -> (iy0: Int, taps: Range<Int>, image: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
                let (n, oy) = (outRow / ho, outRow % ho)
                let iy0 = oy * stride - padding.top
                return (iy0, Padding2D.taps(start: iy0, kernel: kh, extent: h), UnsafePointer(x.pointer + n * h * wd * c), y.pointer + (n * ho + oy) * wo * c)
            }
            // One group of 64 channels at a time over all the worker's rows: the group's weights (kh·kw·64 floats)
            // and its kernel rows' inputs stay in L1 from one quad to the next and one row to the next.
            for group in Swift.stride(from: 0, to: c16, by: 64) {
                let channels = group..<min(c16, group + 64)
                for outRow in blocks[b] {
                    let (iy0, taps, image, out) = place(outRow)
                    // Border pixels (and all of a row whose interior is narrower than a quad): the taps inside.
                    for ox in 0..<wo where ox < oxLo || ox >= oxHi || oxHi - oxLo < 4 {
                        let ix0 = ox * stride - padding.left
                        geometry.single(image + (iy0 * wd + ix0) * c, taps: taps, columns: Padding2D.taps(start: ix0, kernel: kw, extent: wd),
                                        channels: channels, into: out + ox * c)
                    }
                    guard oxHi - oxLo >= 4 else { continue }
                    // Interior: eights sliding along the row (3- and 5-wide kernels, stride 1 or 2), then quads, the
                    // last one shifted left to end at oxHi (it recomputes a few pixels rather than running single ones).
                    var ox = oxLo
                    while (kw == 3 || kw == 5) && stride <= 2 && oxHi - ox >= 8 {
                        let (origin, o) = (image + (iy0 * wd + ox * stride - padding.left) * c, out + ox * c)
                        switch (kw, stride) {
                        case (3, 1): geometry.slide3(origin, taps: taps, channels: channels, into: o)
                        case (5, 1): geometry.slide5(origin, taps: taps, channels: channels, into: o)
                        case (3, _): geometry.slide3Stride2(origin, taps: taps, channels: channels, into: o)
                        default: geometry.slide5Stride2(origin, taps: taps, channels: channels, into: o)
                        }
                        ox += 8
                    }
                    while ox < oxHi {
                        let start = min(ox, oxHi - 4)
                        let (origin, o) = (image + (iy0 * wd + start * stride - padding.left) * c, out + start * c)
                        switch kw {
                        case 3: geometry.run(origin, taps: taps, kw: 3, channels: channels, into: o)
                        case 5: geometry.run(origin, taps: taps, kw: 5, channels: channels, into: o)
                        default: geometry.run(origin, taps: taps, kw: kw, channels: channels, into: o)
                        }
                        ox = start + 4
                    }
                }
            }
            // The channels past the last multiple of 16, scalar.
            guard c16 < c else { return }
            for outRow in blocks[b] {
                let (iy0, taps, image, out) = place(outRow)
                for ox in 0..<wo {
                    let acc = out + ox * c
                    for ch in c16..<c { acc[ch] = bp[ch] }
                    let ix0 = ox * stride - padding.left
                    for dy in taps {
                        for dx in Padding2D.taps(start: ix0, kernel: kw, extent: wd) {
                            let (src, tap) = (image + ((iy0 + dy) * wd + ix0 + dx) * c, wp + (dy * kw + dx) * c)
                            for ch in c16..<c { acc[ch] += src[ch] * tap[ch] }
                        }
                    }
                    for ch in c16..<c { acc[ch] = activate1(acc[ch], activation) }
                }
            }
        }
    }

    /// x [B, H, W, C] -> the mean over H·W of each image and channel, [B, C].
    public static func globalAveragePool(_ x: Tensor) throws(TensorError) -> Tensor {
        let out = Tensor(zeros: [x.shape.first ?? 0, x.shape.last ?? 0])
        try globalAveragePool(x, into: out)
        return out
    }

    /// `globalAveragePool` into `out` [B, C] (rows may be strided).
    public static func globalAveragePool(_ x: Tensor, into out: Tensor) throws(TensorError) {
        let (batch, h, w, c) = try nhwc("globalAveragePool", x)
        try requireMatrix("globalAveragePool", out, rows: batch, cols: c)
        let scale = 1 / Float(h * w)
        for n in 0..<batch {
            let dst = out.pointer + n * out.strides[0]
            dst.update(repeating: 0, count: c)
            for p in 0..<(h * w) {
                let src = x.pointer + (n * h * w + p) * c
                for ch in 0..<c { dst[ch] += src[ch] }
            }
            for ch in 0..<c { dst[ch] *= scale }
        }
    }

    @inline(__always)
    static func activate1(_ v: Float, _ activation: ConvActivation) -> Float {
        switch activation {
        case .none: v
        case .relu6: min(max(v, 0), 6)
        case .relu: max(v, 0)
        }
    }

    private static func nhwc(_ op: String, _ x: Tensor) throws(TensorError) -> (Int, Int, Int, Int) {
        guard x.rank == 4 else { throw .shapeMismatch(op: op, expected: [-1, -1, -1, -1], actual: x.shape) }
        guard x.isContiguous else { throw .notContiguous(op: op, shape: x.shape, strides: x.strides) }
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }

    private static func requireShape(_ op: String, _ t: Tensor, _ shape: [Int]) throws(TensorError) {
        guard t.shape == shape else { throw .shapeMismatch(op: op, expected: shape, actual: t.shape) }
    }
}

/// A running sum of products: one 8-float accumulator (a name for `slide`'s column lists).
struct Accumulator {
    var sum: Vec8
    @inline(__always) mutating func fma(_ x: Vec8, _ w: Vec8) { sum = sum.addingProduct(x, w) }
}

/// The accumulators of eight output pixels (`DepthwiseQuad.slide`).
typealias Eight = (Accumulator, Accumulator, Accumulator, Accumulator, Accumulator, Accumulator, Accumulator, Accumulator)

/// Output pixels of a depthwise convolution whose taps all fall inside the image, in registers: `run` takes
/// 4 pixels × 16 channels in eight 8-float accumulators, each pair of weight vectors serving 8 multiply-adds;
/// the `slide` kernels take 8 pixels × 8 channels, each input vector serving every tap it falls under. Written
/// as plain 8-float loads and fused multiply-adds with every stride a stored constant, the shape the compiler
/// keeps in registers (measurements of both choices: bench/vision/README.md).
struct DepthwiseQuad {
    let c: Int, rowStride: Int, step: Int, kw: Int
    let weights: UnsafePointer<Float>, bias: UnsafePointer<Float>
    let lo: Vec8, hi: Vec8

    /// Pixels at `origin` (the top-left tap of the first pixel) + `step`·i, i < 4, kernel rows `taps`, channels
    /// `channels` (bounds multiples of 16), into `out` + c·i.
    @inline(__always)
    func run(_ origin: UnsafePointer<Float>, taps: Range<Int>, kw: Int, channels: Range<Int>,
             into out: UnsafeMutablePointer<Float>) {
        var cg = channels.lowerBound
        while cg < channels.upperBound {
            let b0 = load8(bias + cg), b1 = load8(bias + cg + 8)
            var (a0, a1, a2, a3, a4, a5, a6, a7) = (b0, b1, b0, b1, b0, b1, b0, b1)
            for dy in taps {
                let row = origin + dy * rowStride + cg, tapRow = weights + dy * kw * c + cg
                for dx in 0..<kw {
                    let t = tapRow + dx * c, q = row + dx * c
                    let w0 = load8(t), w1 = load8(t + 8)
                    a0 = a0.addingProduct(load8(q), w0); a1 = a1.addingProduct(load8(q + 8), w1)
                    a2 = a2.addingProduct(load8(q + step), w0); a3 = a3.addingProduct(load8(q + step + 8), w1)
                    a4 = a4.addingProduct(load8(q + 2 * step), w0); a5 = a5.addingProduct(load8(q + 2 * step + 8), w1)
                    a6 = a6.addingProduct(load8(q + 3 * step), w0); a7 = a7.addingProduct(load8(q + 3 * step + 8), w1)
                }
            }
            let o = out + cg
            store8(clamp8(a0, lo, hi), o); store8(clamp8(a1, lo, hi), o + 8)
            store8(clamp8(a2, lo, hi), o + c); store8(clamp8(a3, lo, hi), o + c + 8)
            store8(clamp8(a4, lo, hi), o + 2 * c); store8(clamp8(a5, lo, hi), o + 2 * c + 8)
            store8(clamp8(a6, lo, hi), o + 3 * c); store8(clamp8(a7, lo, hi), o + 3 * c + 8)
            cg += 16
        }
    }

    /// Eight output pixels × 8 channels, a kernel row at a time: for each 8 channels of `channels`, the
    /// accumulators start from the bias, `kernelRow(row, tap, &e)` adds kernel row dy of every tap in `taps`
    /// (`row`: the first pixel's input row at its first tap, `tap`: the row's weights; both offset to the
    /// channels), and the activated sums go to `out` + c·i.
    @inline(__always)
    private func slide(_ origin: UnsafePointer<Float>, taps: Range<Int>, kw: Int, channels: Range<Int>,
                       into out: UnsafeMutablePointer<Float>,
                       kernelRow: (UnsafePointer<Float>, UnsafePointer<Float>, inout Eight) -> Void) {
        var cg = channels.lowerBound
        while cg < channels.upperBound {
            let b = Accumulator(sum: load8(bias + cg))
            var e: Eight = (b, b, b, b, b, b, b, b)
            for dy in taps { kernelRow(origin + dy * rowStride + cg, weights + dy * kw * c + cg, &e) }
            let o = out + cg
            store8(clamp8(e.0.sum, lo, hi), o); store8(clamp8(e.1.sum, lo, hi), o + c)
            store8(clamp8(e.2.sum, lo, hi), o + 2 * c); store8(clamp8(e.3.sum, lo, hi), o + 3 * c)
            store8(clamp8(e.4.sum, lo, hi), o + 4 * c); store8(clamp8(e.5.sum, lo, hi), o + 5 * c)
            store8(clamp8(e.6.sum, lo, hi), o + 6 * c); store8(clamp8(e.7.sum, lo, hi), o + 7 * c)
            cg += 8
        }
    }

    /// Eight adjacent output pixels at `origin` + c·i, i < 8 (stride 1), 8 channels at a time, for a 3-wide
    /// kernel: the window slides along the row, each input vector loaded once per kernel row and multiplied by
    /// every tap it falls under (10 loads of the input and 3 of weights per 24 multiply-adds, where `run` loads
    /// 1.25 per multiply-add). Written out, as are the other three: the compiler keeps the accumulators of a loop
    /// it does not unroll in memory.
    @inline(__always)
    func slide3(_ origin: UnsafePointer<Float>, taps: Range<Int>, channels: Range<Int>,
                into out: UnsafeMutablePointer<Float>) {
        slide(origin, taps: taps, kw: 3, channels: channels, into: out) { row, tap, e in
            let (w0, w1, w2) = (load8(tap), load8(tap + c), load8(tap + 2 * c))
            var x: Vec8
            x = load8(row + 0 * c); e.0.fma(x, w0)
            x = load8(row + 1 * c); e.0.fma(x, w1); e.1.fma(x, w0)
            x = load8(row + 2 * c); e.0.fma(x, w2); e.1.fma(x, w1); e.2.fma(x, w0)
            x = load8(row + 3 * c); e.1.fma(x, w2); e.2.fma(x, w1); e.3.fma(x, w0)
            x = load8(row + 4 * c); e.2.fma(x, w2); e.3.fma(x, w1); e.4.fma(x, w0)
            x = load8(row + 5 * c); e.3.fma(x, w2); e.4.fma(x, w1); e.5.fma(x, w0)
            x = load8(row + 6 * c); e.4.fma(x, w2); e.5.fma(x, w1); e.6.fma(x, w0)
            x = load8(row + 7 * c); e.5.fma(x, w2); e.6.fma(x, w1); e.7.fma(x, w0)
            x = load8(row + 8 * c); e.6.fma(x, w2); e.7.fma(x, w1)
            x = load8(row + 9 * c); e.7.fma(x, w2)
        }
    }

    /// `slide3` for a 5-wide kernel: 12 loads of the input and 5 of weights per 40 multiply-adds.
    @inline(__always)
    func slide5(_ origin: UnsafePointer<Float>, taps: Range<Int>, channels: Range<Int>,
                into out: UnsafeMutablePointer<Float>) {
        slide(origin, taps: taps, kw: 5, channels: channels, into: out) { row, tap, e in
            let (w0, w1, w2, w3, w4) = (load8(tap), load8(tap + c), load8(tap + 2 * c), load8(tap + 3 * c), load8(tap + 4 * c))
            var x: Vec8
            x = load8(row + 0 * c); e.0.fma(x, w0)
            x = load8(row + 1 * c); e.0.fma(x, w1); e.1.fma(x, w0)
            x = load8(row + 2 * c); e.0.fma(x, w2); e.1.fma(x, w1); e.2.fma(x, w0)
            x = load8(row + 3 * c); e.0.fma(x, w3); e.1.fma(x, w2); e.2.fma(x, w1); e.3.fma(x, w0)
            x = load8(row + 4 * c); e.0.fma(x, w4); e.1.fma(x, w3); e.2.fma(x, w2); e.3.fma(x, w1); e.4.fma(x, w0)
            x = load8(row + 5 * c); e.1.fma(x, w4); e.2.fma(x, w3); e.3.fma(x, w2); e.4.fma(x, w1); e.5.fma(x, w0)
            x = load8(row + 6 * c); e.2.fma(x, w4); e.3.fma(x, w3); e.4.fma(x, w2); e.5.fma(x, w1); e.6.fma(x, w0)
            x = load8(row + 7 * c); e.3.fma(x, w4); e.4.fma(x, w3); e.5.fma(x, w2); e.6.fma(x, w1); e.7.fma(x, w0)
            x = load8(row + 8 * c); e.4.fma(x, w4); e.5.fma(x, w3); e.6.fma(x, w2); e.7.fma(x, w1)
            x = load8(row + 9 * c); e.5.fma(x, w4); e.6.fma(x, w3); e.7.fma(x, w2)
            x = load8(row + 10 * c); e.6.fma(x, w4); e.7.fma(x, w3)
            x = load8(row + 11 * c); e.7.fma(x, w4)
        }
    }

    /// `slide3` with stride 2 (pixel i at `origin` + 2c·i): 17 loads of the input per 24 multiply-adds.
    @inline(__always)
    func slide3Stride2(_ origin: UnsafePointer<Float>, taps: Range<Int>, channels: Range<Int>,
                       into out: UnsafeMutablePointer<Float>) {
        slide(origin, taps: taps, kw: 3, channels: channels, into: out) { row, tap, e in
            let (w0, w1, w2) = (load8(tap), load8(tap + c), load8(tap + 2 * c))
            var x: Vec8
            x = load8(row + 0 * c); e.0.fma(x, w0)
            x = load8(row + 1 * c); e.0.fma(x, w1)
            x = load8(row + 2 * c); e.0.fma(x, w2); e.1.fma(x, w0)
            x = load8(row + 3 * c); e.1.fma(x, w1)
            x = load8(row + 4 * c); e.1.fma(x, w2); e.2.fma(x, w0)
            x = load8(row + 5 * c); e.2.fma(x, w1)
            x = load8(row + 6 * c); e.2.fma(x, w2); e.3.fma(x, w0)
            x = load8(row + 7 * c); e.3.fma(x, w1)
            x = load8(row + 8 * c); e.3.fma(x, w2); e.4.fma(x, w0)
            x = load8(row + 9 * c); e.4.fma(x, w1)
            x = load8(row + 10 * c); e.4.fma(x, w2); e.5.fma(x, w0)
            x = load8(row + 11 * c); e.5.fma(x, w1)
            x = load8(row + 12 * c); e.5.fma(x, w2); e.6.fma(x, w0)
            x = load8(row + 13 * c); e.6.fma(x, w1)
            x = load8(row + 14 * c); e.6.fma(x, w2); e.7.fma(x, w0)
            x = load8(row + 15 * c); e.7.fma(x, w1)
            x = load8(row + 16 * c); e.7.fma(x, w2)
        }
    }

    /// `slide5` with stride 2: 19 loads of the input per 40 multiply-adds.
    @inline(__always)
    func slide5Stride2(_ origin: UnsafePointer<Float>, taps: Range<Int>, channels: Range<Int>,
                       into out: UnsafeMutablePointer<Float>) {
        slide(origin, taps: taps, kw: 5, channels: channels, into: out) { row, tap, e in
            let (w0, w1, w2, w3, w4) = (load8(tap), load8(tap + c), load8(tap + 2 * c), load8(tap + 3 * c), load8(tap + 4 * c))
            var x: Vec8
            x = load8(row + 0 * c); e.0.fma(x, w0)
            x = load8(row + 1 * c); e.0.fma(x, w1)
            x = load8(row + 2 * c); e.0.fma(x, w2); e.1.fma(x, w0)
            x = load8(row + 3 * c); e.0.fma(x, w3); e.1.fma(x, w1)
            x = load8(row + 4 * c); e.0.fma(x, w4); e.1.fma(x, w2); e.2.fma(x, w0)
            x = load8(row + 5 * c); e.1.fma(x, w3); e.2.fma(x, w1)
            x = load8(row + 6 * c); e.1.fma(x, w4); e.2.fma(x, w2); e.3.fma(x, w0)
            x = load8(row + 7 * c); e.2.fma(x, w3); e.3.fma(x, w1)
            x = load8(row + 8 * c); e.2.fma(x, w4); e.3.fma(x, w2); e.4.fma(x, w0)
            x = load8(row + 9 * c); e.3.fma(x, w3); e.4.fma(x, w1)
            x = load8(row + 10 * c); e.3.fma(x, w4); e.4.fma(x, w2); e.5.fma(x, w0)
            x = load8(row + 11 * c); e.4.fma(x, w3); e.5.fma(x, w1)
            x = load8(row + 12 * c); e.4.fma(x, w4); e.5.fma(x, w2); e.6.fma(x, w0)
            x = load8(row + 13 * c); e.5.fma(x, w3); e.6.fma(x, w1)
            x = load8(row + 14 * c); e.5.fma(x, w4); e.6.fma(x, w2); e.7.fma(x, w0)
            x = load8(row + 15 * c); e.6.fma(x, w3); e.7.fma(x, w1)
            x = load8(row + 16 * c); e.6.fma(x, w4); e.7.fma(x, w2)
            x = load8(row + 17 * c); e.7.fma(x, w3)
            x = load8(row + 18 * c); e.7.fma(x, w4)
        }
    }

    /// One pixel whose taps are clipped to kernel columns `columns` (a border pixel): 16 channels at a time,
    /// even and odd kernel rows in separate accumulators (four chains of multiply-adds).
    @inline(__always)
    func single(_ origin: UnsafePointer<Float>, taps: Range<Int>, columns: Range<Int>, channels: Range<Int>,
                into out: UnsafeMutablePointer<Float>) {
        var cg = channels.lowerBound
        while cg < channels.upperBound {
            var (a0, a1) = (load8(bias + cg), load8(bias + cg + 8)), (a2, a3) = (Vec8(), Vec8())
            for dy in taps {
                let row = origin + dy * rowStride + cg, tapRow = weights + dy * kw * c + cg
                for dx in columns {
                    let t = tapRow + dx * c, q = row + dx * c
                    if dy & 1 == 0 {
                        a0 = a0.addingProduct(load8(q), load8(t)); a1 = a1.addingProduct(load8(q + 8), load8(t + 8))
                    } else {
                        a2 = a2.addingProduct(load8(q), load8(t)); a3 = a3.addingProduct(load8(q + 8), load8(t + 8))
                    }
                }
            }
            store8(clamp8(a0 + a2, lo, hi), out + cg); store8(clamp8(a1 + a3, lo, hi), out + cg + 8)
            cg += 16
        }
    }
}

extension Reference {
    /// Naive grouped convolution, NHWC input and output, PyTorch weight layout [cOut, cIn/groups, kh, kw].
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Padding2D,
                              groups: Int = 1) -> Tensor {
        let (batch, h, w, cIn) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cOut, cPerGroup, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let (ho, wo) = padding.outputSize(height: h, width: w, kernel: (kh, kw), stride: stride)
        let outPerGroup = cOut / groups
        let y = Tensor(zeros: [batch, ho, wo, cOut])
        for n in 0..<batch {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    for o in 0..<cOut {
                        var sum = Double(bias.map { $0[o] } ?? 0)
                        let g = o / outPerGroup
                        for ci in 0..<cPerGroup {
                            for dy in 0..<kh {
                                for dx in 0..<kw {
                                    let (iy, ix) = (oy * stride + dy - padding.top, ox * stride + dx - padding.left)
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    sum += Double(x[n, iy, ix, g * cPerGroup + ci]) * Double(weight[o, ci, dy, dx])
                                }
                            }
                        }
                        y[n, oy, ox, o] = Float(sum)
                    }
                }
            }
        }
        _ = cIn
        return y
    }
}
