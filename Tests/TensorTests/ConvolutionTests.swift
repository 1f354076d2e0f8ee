import Testing
@testable import Tensor

@Suite struct ConvolutionTests {
    /// Deterministic pseudo-random values in [-1, 1) (xorshift), so failures reproduce.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed | 1
        return (0..<count).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2001) / 1000 - 1
        }
    }

    static func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.toArray(), b.toArray()).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func samePaddingMatchesTensorFlow() {
        // 224, k3, s2: out 112, total pad (111·2 + 3 - 224) = 1 -> 0 before, 1 after.
        #expect(Padding2D.same(height: 224, width: 224, kernel: 3, stride: 2) == Padding2D(top: 0, left: 0, bottom: 1, right: 1))
        #expect(Padding2D.same(height: 14, width: 14, kernel: 5, stride: 1) == .symmetric(2))
        #expect(Padding2D.same(height: 28, width: 28, kernel: 5, stride: 2) == Padding2D(top: 1, left: 1, bottom: 2, right: 2))
    }

    @Test func conv2dByHand() throws {
        // One 3x3 image, one channel, a 2x2 kernel of ones: each output sums a 2x2 window.
        let x = try Tensor(shape: [1, 3, 3, 1], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = try ConvWeights(weight: try Tensor(shape: [1, 1, 2, 2], values: [1, 1, 1, 1]),
                                bias: try Tensor(shape: [1], values: [0.5]))
        let y = Tensor(zeros: [1, 2, 2, 1])
        try Ops.conv2d(x, w, stride: 1, padding: .symmetric(0), into: y)
        #expect(y.toArray() == [12.5, 16.5, 24.5, 28.5])
    }

    /// Kernel rows inside the image read in place, border pixels through im2col; pixels of 3 and 10 channels
    /// (shorter and longer than a vector); pixel ranges that start inside an image and cross into the next
    /// (workers 3, 4).
    @Test(arguments: [(3, 2, 1, 3), (3, 1, 4, 3), (1, 1, 1, 3), (5, 2, 3, 3), (3, 2, 2, 10), (5, 1, 3, 10)])
    func conv2dMatchesReference(kernel: Int, stride: Int, workers: Int, cIn: Int) throws {
        let (b, h, w, cOut) = (2, 9, 8, 5)
        let x = try Tensor(shape: [b, h, w, cIn], values: Self.values(b * h * w * cIn, seed: 1))
        let weight = try Tensor(shape: [cOut, cIn, kernel, kernel], values: Self.values(cOut * cIn * kernel * kernel, seed: 2))
        let bias = try Tensor(shape: [cOut], values: Self.values(cOut, seed: 3))
        let pad = kernel == 1 && stride == 1 ? Padding2D.symmetric(0) : Padding2D.same(height: h, width: w, kernel: kernel, stride: stride)
        let expected = Reference.conv2d(x, weight: weight, bias: bias, stride: stride, padding: pad)
        let y = Tensor(zeros: expected.shape)
        try Ops.conv2d(x, try ConvWeights(weight: weight, bias: bias), stride: stride, padding: pad, workers: workers, into: y)
        #expect(Self.maxDiff(y, expected) < 1e-5)
    }

    /// The packed kernel's cache tiles, 6-row tiles, 16-column panels and their tails (cOut 24, 40; 1 + 6k rows),
    /// fused ReLU6 and residual add; deep patches in blocks of depth (3×3 over 200 and 600 channels: border
    /// patches through im2col, kernel rows inside the image as depth segments — 1800 deep, in two blocks), on 1
    /// and 2 workers.
    @Test(arguments: [(1, 40, 24, 1), (1, 16, 96, 2), (3, 3, 40, 2), (1, 320, 1280, 2), (3, 200, 24, 2), (1, 1600, 16, 1),
                      (3, 600, 24, 2)])
    func conv2dWithResidualMatchesReference(kernel: Int, cIn: Int, cOut: Int, workers: Int) throws {
        let (b, h, w) = (1, 7, 13)  // 91 pixels
        let x = try Tensor(shape: [b, h, w, cIn], values: Self.values(b * h * w * cIn, seed: 7))
        let weight = try Tensor(shape: [cOut, cIn, kernel, kernel], values: Self.values(cOut * cIn * kernel * kernel, seed: 8))
        let bias = try Tensor(shape: [cOut], values: Self.values(cOut, seed: 9))
        let pad = kernel == 1 ? Padding2D.symmetric(0) : Padding2D.same(height: h, width: w, kernel: kernel, stride: 1)
        let residual = try Tensor(shape: [b, h, w, cOut], values: Self.values(b * h * w * cOut, seed: 10))
        let reference = Reference.conv2d(x, weight: weight, bias: bias, stride: 1, padding: pad).toArray()
        let expected = zip(reference, residual.toArray()).map { min(max($0, 0), 6) + $1 }
        let y = Tensor(zeros: [b, h, w, cOut])
        try Ops.conv2d(x, try ConvWeights(weight: weight, bias: bias), stride: 1, padding: pad, activation: .relu6,
                       residual: residual, workers: workers, into: y)
        let scale = Float(kernel * kernel * cIn).squareRoot()
        #expect(zip(y.toArray(), expected).map { abs($0 - $1) }.max()! < 1e-5 * scale)
    }

    /// Border pixels (clipped taps), interior quads (exact and shifted to end at the interior's edge), channel
    /// groups of 64 and their remainder (80, 112), the scalar channel tail (7, 20, 36); 23 columns: eights sliding
    /// along the row (3- and 5-wide kernels, strides 1 and 2), then quads for the rest of the interior.
    @Test(arguments: [(3, 1, 1, 7, 10), (3, 2, 2, 7, 10), (5, 1, 3, 7, 10), (5, 2, 1, 7, 10), (3, 1, 2, 48, 10),
                      (5, 2, 2, 48, 10), (3, 2, 1, 20, 10), (5, 1, 1, 36, 10), (5, 1, 2, 80, 10), (3, 2, 1, 112, 10),
                      (3, 1, 2, 80, 23), (5, 1, 1, 48, 23), (3, 2, 3, 20, 23), (5, 2, 2, 80, 23)])
    func depthwiseMatchesReference(kernel: Int, stride: Int, workers: Int, c: Int, w: Int) throws {
        let (b, h) = (2, 11)
        let x = try Tensor(shape: [b, h, w, c], values: Self.values(b * h * w * c, seed: 4))
        let weight = try Tensor(shape: [c, 1, kernel, kernel], values: Self.values(c * kernel * kernel, seed: 5))
        let bias = try Tensor(shape: [c], values: Self.values(c, seed: 6))
        let pad = Padding2D.same(height: h, width: w, kernel: kernel, stride: stride)
        let expected = Reference.conv2d(x, weight: weight, bias: bias, stride: stride, padding: pad, groups: c)
        let y = Tensor(zeros: expected.shape)
        try Ops.depthwiseConv2d(x, try DepthwiseWeights(weight: weight, bias: bias), stride: stride, padding: pad,
                                workers: workers, into: y)
        #expect(Self.maxDiff(y, expected) < 1e-5)
    }

    /// Padding wider than the kernel: output pixels whose whole kernel lies in the padding are the bias alone.
    @Test func paddingWiderThanTheKernel() throws {
        let (h, w, c) = (4, 5, 16)
        let x = try Tensor(shape: [1, h, w, c], values: Self.values(h * w * c, seed: 11))
        let pad = Padding2D(top: 4, left: 5, bottom: 4, right: 5)
        for groups in [1, c] {
            let weight = try Tensor(shape: [c, c / groups, 3, 3], values: Self.values(c * c / groups * 9, seed: 12))
            let bias = try Tensor(shape: [c], values: Self.values(c, seed: 13))
            let expected = Reference.conv2d(x, weight: weight, bias: bias, stride: 1, padding: pad, groups: groups)
            let y = Tensor(zeros: expected.shape)
            if groups == 1 {  // 3 workers: parts that end inside a row's left border and start in its right one
                try Ops.conv2d(x, try ConvWeights(weight: weight, bias: bias), stride: 1, padding: pad, workers: 3, into: y)
            } else {
                try Ops.depthwiseConv2d(x, try DepthwiseWeights(weight: weight, bias: bias), stride: 1, padding: pad,
                                        workers: 2, into: y)
            }
            #expect(Self.maxDiff(y, expected) < 1e-5)
        }
    }

    /// A band of output rows reads the input rows its kernels cover, with the image's padding only at its ends:
    /// a convolution over those rows alone gives exactly the band's rows; a band wholly in the bottom padding
    /// reads no rows (an empty range at its start, not an inverted one).
    @Test func bandsOfOutputRows() throws {
        let (h, w, c) = (9, 6, 16)
        let x = try Tensor(shape: [1, h, w, c], values: Self.values(h * w * c, seed: 14))
        let weights = try DepthwiseWeights(weight: try Tensor(shape: [c, 1, 3, 3], values: Self.values(c * 9, seed: 15)),
                                           bias: try Tensor(shape: [c], values: Self.values(c, seed: 16)))
        for (stride, pad) in [(1, Padding2D.symmetric(1)), (2, Padding2D.same(height: h, width: w, kernel: 3, stride: 2))] {
            let ho = pad.outputSize(height: h, width: w, kernel: (3, 3), stride: stride).height
            let whole = Tensor(zeros: [1, ho, w / stride + (stride == 2 ? w % 2 : 0), c])
            try Ops.depthwiseConv2d(x, weights, stride: stride, padding: pad, into: whole)
            let rowFloats = whole.shape[2] * c
            for first in 0..<ho {
                for last in (first + 1)...ho {
                    let (rows, bandPad) = pad.band(first..<last, height: h, kernel: 3, stride: stride)
                    let input = try x.reshaped([h, w * c]).rows(rows).reshaped([1, rows.count, w, c])
                    let y = Tensor(zeros: [1, last - first, whole.shape[2], c])
                    try Ops.depthwiseConv2d(input, weights, stride: stride, padding: bandPad, into: y)
                    #expect(y.toArray() == Array(whole.toArray()[(first * rowFloats)..<(last * rowFloats)]), "rows \(first)..<\(last), stride \(stride)")
                }
            }
        }
        let beyond = Padding2D(top: 0, left: 0, bottom: 6, right: 0).band(5..<6, height: 4, kernel: 3, stride: 1)
        #expect(beyond.rows == 5..<5 && beyond.padding == Padding2D(top: 0, left: 0, bottom: 3, right: 0))
    }

    @Test func relu6ClampsAndPoolAverages() throws {
        let x = try Tensor(shape: [1, 1, 4, 1], values: [-3, 2, 7, 5])
        let w = try DepthwiseWeights(weight: try Tensor(shape: [1, 1, 1, 1], values: [1]), bias: try Tensor(shape: [1], values: [0]))
        let y = Tensor(zeros: [1, 1, 4, 1])
        try Ops.depthwiseConv2d(x, w, stride: 1, padding: .symmetric(0), activation: .relu6, into: y)
        #expect(y.toArray() == [0, 2, 6, 5])
        #expect(try Ops.globalAveragePool(y).toArray() == [3.25])
    }

    @Test func shapeErrorsNameTheOp() throws {
        let x = Tensor(zeros: [1, 4, 4, 3])
        let w = try ConvWeights(weight: Tensor(zeros: [2, 3, 3, 3]), bias: nil)
        #expect(throws: TensorError.shapeMismatch(op: "conv2d", expected: [1, 2, 2, 2], actual: [1, 4, 4, 2])) {
            try Ops.conv2d(x, w, stride: 1, padding: .symmetric(0), into: Tensor(zeros: [1, 4, 4, 2]))
        }
    }
}
