/// 2-D convolutions on channels-last images: x [batch, height, width, channels] (NHWC), so a pixel's channels
/// are contiguous and a 1x1 convolution is one matrix product over all pixels.
///
/// - Dense convolutions (`conv2d`) run as im2col + SGEMM (`Ops.linear` on the patch matrix); a 1x1 convolution
///   with stride 1 skips im2col and multiplies the image itself.
/// - Depthwise convolutions (`depthwiseConv2d`, groups == channels) run as a direct loop: each output pixel
///   accumulates kh·kw rows of C contiguous products, which the compiler vectorises over channels. im2col would
///   copy kh·kw times the image to multiply it by a diagonal.
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

/// A dense convolution prepared for im2col + SGEMM: the PyTorch weight [cOut, cIn, kh, kw] reordered to
/// [cOut, kh·kw·cIn] (patch order: row, column, channel — the order im2col writes) as `LinearWeights`.
public struct ConvWeights: Sendable {
    public let linear: LinearWeights
    public let kernel: (height: Int, width: Int)
    public let cIn: Int
    public var cOut: Int { linear.dOut }

    /// From the PyTorch layout: weight [cOut, cIn, kh, kw], bias [cOut] (copied).
    public init(weight: Tensor, bias: Tensor?) throws(TensorError) {
        guard weight.rank == 4, weight.isContiguous else {
            throw .shapeMismatch(op: "ConvWeights", expected: [-1, -1, -1, -1], actual: weight.shape)
        }
        let (cOut, cIn, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
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
        linear = try LinearWeights(weight: try Tensor(shape: [cOut, kh * kw * cIn], values: patch), bias: bias)
        kernel = (kh, kw)
        self.cIn = cIn
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

extension Ops {
    /// y = act(conv(x, w) + b): x [B, H, W, cIn], y [B, Ho, Wo, cOut]. `workers` split the output rows.
    public static func conv2d(_ x: Tensor, _ w: ConvWeights, stride: Int, padding: Padding2D,
                              activation: ConvActivation = .none, workers: Int = 1, into y: Tensor) throws(TensorError) {
        let (batch, h, wd, cIn) = try nhwc("conv2d", x)
        guard cIn == w.cIn else { throw .incompatibleShapes(op: "conv2d", lhs: x.shape, rhs: [w.cOut, w.cIn]) }
        let (ho, wo) = padding.outputSize(height: h, width: wd, kernel: w.kernel, stride: stride)
        try requireShape("conv2d", y, [batch, ho, wo, w.cOut])
        guard y.isContiguous else { throw .notContiguous(op: "conv2d", shape: y.shape, strides: y.strides) }
        let pointwise = w.kernel == (1, 1) && stride == 1 && padding == .symmetric(0)
        let rows = batch * ho * wo
        let blocks = Parallel.blocks(rows, parts: max(1, workers), align: 8)
        let k = w.kernel.height * w.kernel.width * cIn
        // One patch matrix per block of output pixels (not per image): bounded scratch, whole-block SGEMMs.
        Parallel.forEach(blocks.count) { b in
            let range = blocks[b]
            let out = try! y.reshaped([rows, w.cOut]).rows(range)  // shapes checked above
            if pointwise {
                try! Ops.linear(try! x.reshaped([rows, cIn]).rows(range), w.linear, into: out)
            } else {
                let patches = Tensor(zeros: [range.count, k])
                for (i, row) in range.enumerated() {
                    let (n, oy, ox) = (row / (ho * wo), row / wo % ho, row % wo)
                    let dst = patches.pointer + i * k
                    for dy in 0..<w.kernel.height {
                        let iy = oy * stride + dy - padding.top
                        guard iy >= 0 && iy < h else { continue }  // zero row (patches starts zeroed)
                        for dx in 0..<w.kernel.width {
                            let ix = ox * stride + dx - padding.left
                            guard ix >= 0 && ix < wd else { continue }
                            (dst + (dy * w.kernel.width + dx) * cIn)
                                .update(from: x.pointer + ((n * h + iy) * wd + ix) * cIn, count: cIn)
                        }
                    }
                }
                try! Ops.linear(patches, w.linear, into: out)
            }
            activate(out.pointer, count: out.count, activation)
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
        let blocks = Parallel.blocks(batch * ho, parts: max(1, workers), align: 1)
        Parallel.forEach(blocks.count) { b in
            let (xp, wp, bp, yp) = (x.pointer, w.weight.pointer, w.bias.pointer, y.pointer)
            for outRow in blocks[b] {
                let (n, oy) = (outRow / ho, outRow % ho)
                for ox in 0..<wo {
                    let acc = yp + ((n * ho + oy) * wo + ox) * c
                    acc.update(from: bp, count: c)
                    for dy in 0..<kh {
                        let iy = oy * stride + dy - padding.top
                        guard iy >= 0 && iy < h else { continue }
                        for dx in 0..<kw {
                            let ix = ox * stride + dx - padding.left
                            guard ix >= 0 && ix < wd else { continue }
                            let src = xp + ((n * h + iy) * wd + ix) * c
                            let tap = wp + (dy * kw + dx) * c
                            for ch in 0..<c { acc[ch] += src[ch] * tap[ch] }
                        }
                    }
                    activate(acc, count: c, activation)
                }
            }
        }
    }

    /// x [B, H, W, C] -> the mean over H·W of each image and channel, [B, C].
    public static func globalAveragePool(_ x: Tensor) throws(TensorError) -> Tensor {
        let (batch, h, w, c) = try nhwc("globalAveragePool", x)
        let out = Tensor(zeros: [batch, c])
        let scale = 1 / Float(h * w)
        for n in 0..<batch {
            let dst = out.pointer + n * c
            for p in 0..<(h * w) {
                let src = x.pointer + (n * h * w + p) * c
                for ch in 0..<c { dst[ch] += src[ch] }
            }
            for ch in 0..<c { dst[ch] *= scale }
        }
        return out
    }

    @inline(__always)
    static func activate(_ p: UnsafeMutablePointer<Float>, count: Int, _ activation: ConvActivation) {
        switch activation {
        case .none: break
        case .relu6: for i in 0..<count { p[i] = min(max(p[i], 0), 6) }
        case .relu: for i in 0..<count { p[i] = max(p[i], 0) }
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
