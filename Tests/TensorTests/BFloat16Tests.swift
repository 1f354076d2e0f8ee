import CBFloat16
import Testing
import TestSupport
@testable import Tensor

/// The bfloat16 products: the same results as float32 products of the same operands rounded to bfloat16 (each
/// product of two bfloat16 values is exact in float32, so only the order of the sums differs).
@Suite(.enabled(if: Precision.bfloat16Supported, "the CPU has no AVX512-BF16"))
struct BFloat16Tests {
    static func rounded(_ t: Tensor) throws -> Tensor {
        try Tensor(shape: t.shape, values: t.toArray().map { Float(bitPattern: UInt32(bfloat16Bits($0)) << 16) })
    }

    /// Rounding to nearest, ties to even, as the CPU's conversion does (the weights are rounded in Swift, A in C).
    @Test func weightRoundingMatchesTheCPU() {
        var rng = SeededRandom(seed: 5)
        var values = rng.tensor([4096]).toArray().map { $0 * 1000 }
        values += [0, -0, 1, 1 + 1 / 256, 1 + 3 / 256, -(1 + 1 / 256), .infinity, -.infinity, .greatestFiniteMagnitude,
                   .leastNonzeroMagnitude, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000)]
        var hardware = [UInt16](repeating: 0, count: values.count)
        rosetta_bf16_round(values, values.count, &hardware)
        #expect(values.map(bfloat16Bits) == hardware)
        #expect(bfloat16Bits(1 + 1 / 256) == 0x3F80 && bfloat16Bits(1 + 3 / 256) == 0x3F82)  // ties to even
    }

    /// Every row remainder of the 8-row tile and several cache tiles, panel pairs and a lone last panel (70
    /// columns), column ranges, odd depth (a padded last pair), two blocks of depth; ReLU6 and the residual.
    @Test(arguments: [40, 41, PackedGEMM.depthBlock + 66])
    func linearMatchesRoundedOperands(depth: Int) throws {
        var rng = SeededRandom(seed: 37)
        let n = 70
        let w = rng.tensor([n, depth]), b = rng.tensor([n])
        let layer = try LinearWeights(weight: w, bias: b, precision: .bfloat16)
        let packed = try #require(layer.packed)
        #expect(packed.bfloat16Pairs == (depth + 1) / 2)
        #expect(packed[4, depth - 1, 5] == Float(bitPattern: UInt32(bfloat16Bits(w[69, depth - 1])) << 16))
        #expect(packed[4, depth - 1, 6] == 0)  // padding columns
        let roundedW = try Self.rounded(w)
        for rows in Array(1...17) + [130, 400] {
            let x = rng.tensor([rows, depth]), residual = rng.tensor([rows, n])
            let product = Reference.linear(try Self.rounded(x), weight: roundedW, bias: b).toArray()
            expectPackedGEMM(packed, x: x, product: product, residual: residual, columnRanges: [0..<n, 16..<n, 32..<48],
                             tolerance: 1e-6 * Float(depth), "bfloat16")
        }
    }

    /// Convolutions read A as depth segments (kernel rows inside the image) and through im2col at the borders:
    /// the bfloat16 path gathers them, with zeros where a tap falls outside. 3×3 over 3 channels (odd segments of
    /// 9), over 600 (two blocks of depth), 1×1 on 2 workers.
    @Test(arguments: [(3, 3, 32, 1), (3, 600, 24, 2), (1, 40, 24, 2)])
    func convolutionMatchesRoundedOperands(kernel: Int, cIn: Int, cOut: Int, workers: Int) throws {
        var rng = SeededRandom(seed: 41)
        let x = rng.tensor([1, 7, 13, cIn]), weight = rng.tensor([cOut, cIn, kernel, kernel]), bias = rng.tensor([cOut])
        let pad = kernel == 1 ? Padding2D.symmetric(0) : Padding2D.same(height: 7, width: 13, kernel: kernel, stride: 1)
        let expected = Reference.conv2d(try Self.rounded(x), weight: try Self.rounded(weight), bias: bias, stride: 1, padding: pad)
        let y = Tensor(zeros: expected.shape)
        try Ops.conv2d(x, try ConvWeights(weight: weight, bias: bias, precision: .bfloat16), stride: 1, padding: pad,
                       workers: workers, into: y)
        let worst = zip(y.toArray(), expected.toArray()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-6 * Float(kernel * kernel * cIn))
    }
}
