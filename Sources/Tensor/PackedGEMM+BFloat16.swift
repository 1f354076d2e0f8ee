import CBFloat16
import CCPU

/// The number format of a model's packed weights and of the products they run.
///
/// `.bfloat16` keeps float32's exponent and 8 of its 24 significand bits: weights are rounded once at load and
/// each product's rows of A as the product reads them, then multiplied in pairs with float32 sums (AVX512-BF16
/// `vdpbf16ps`: twice the multiply-adds of a float32 FMA per instruction, half the bytes of weights). Outputs stay
/// float32, and so does everything outside the dense products (attention, normalisation, depthwise convolution).
/// Tolerance: the golden tests hold MiniLM's sentence embeddings, EfficientNet-Lite0's logits and aiSFX's block
/// vectors within cosine 0.999 of the float32 references (measured minima 0.99998, 0.99977 and 0.99991;
/// bench/int8/README.md has the simulation that chose bfloat16 over int8).
public enum Precision: String, Sendable, CaseIterable {
    case float32
    case bfloat16

    /// Whether this CPU multiplies bfloat16 (AVX512-BF16); without it `.bfloat16` weights are packed as float32.
    public static let bfloat16Supported = rosetta_has_avx512_bf16() != 0

    /// What weights asked for in `self` are actually packed as on this CPU.
    public var effective: Precision { self == .bfloat16 && !Self.bfloat16Supported ? .float32 : self }
}

/// `x` rounded to the nearest bfloat16, ties to even (what vcvtne2ps2bf16 does); NaN stays a quiet NaN.
func bfloat16Bits(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    if x.isNaN { return UInt16(bits >> 16) | 0x40 }
    return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
}

extension PackedGEMM {
    /// `run` for bfloat16 panels. Per cache tile of rows, A is rounded to bfloat16 once (from its depth
    /// segments, zeros where none covers the depth, padded to whole pairs) into a scratch that then serves every
    /// panel; each 8 × 32 register tile (`rosetta_bf16_tile`, C: Swift has no bfloat16 dot product) accumulates
    /// into a float32 tile that starts from the bias or from C (a later block of depth) and ends through
    /// `storeRow16` with the activation and the residual on the last block. Blocks of depth and prefetching of
    /// the next block are those of the float32 path, over pairs.
    static func runBFloat16(m: Int, columns: Range<Int>, segments: UnsafeBufferPointer<DepthSegment>, lda: Int,
                            weights: PackedWeights, pairs: Int, activation: ConvActivation,
                            residual: UnsafePointer<Float>?, ldr: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let tileRows = 8, width = 2 * panelWidth, k = weights.k, depth = 2 * pairs
        let cacheRows = rowTile(k: k, rows: tileRows), blockPairs = depthBlock / 2
        let coversDepth = segments.count == 1 && segments[0].depth == 0..<k && k == depth
        let a16 = UnsafeMutablePointer<UInt16>.allocate(capacity: cacheRows * depth)
        defer { a16.deallocate() }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * width) { tile in
            let acc = tile.baseAddress!
            var start = 0
            while start < m {
                let end = min(m, start + cacheRows)
                if !coversDepth { a16.initialize(repeating: 0, count: (end - start) * depth) }
                for i in start..<end {
                    for segment in segments where !segment.depth.isEmpty {
                        rosetta_bf16_round(segment.a + i * lda, segment.depth.count,
                                           a16 + (i - start) * depth + segment.depth.lowerBound)
                    }
                }
                var j = columns.lowerBound
                while j < columns.upperBound {
                    let cols = min(width, columns.upperBound - j), col = j - columns.lowerBound
                    let panels = cols > panelWidth ? 2 : 1, p = j / panelWidth
                    let b0 = weights.bfloat16Panel(p), b1 = panels == 2 ? weights.bfloat16Panel(p + 1) : b0
                    for first in stride(from: 0, to: pairs, by: blockPairs) {
                        let block = first..<min(pairs, first + blockPairs), last = block.upperBound == pairs
                        // The first row tile fetches what the tiles read next, the same distance after each panel
                        // row it reads: each panel's next block, or after the last block the next panels.
                        let following = last ? weights.bfloat16Panel(p + panels) : b0 + 2 * panelWidth * block.upperBound
                        let next = UnsafeRawPointer(following) - UnsafeRawPointer(b0 + 2 * panelWidth * block.lowerBound)
                        let bias: UnsafePointer<Float>? = first == 0 ? UnsafePointer(weights.bias.pointer + j) : nil
                        let (lo, hi) = last ? activation.bounds16 : ConvActivation.none.bounds16
                        var i = start
                        while i < end {
                            let rows = min(tileRows, end - i), out = c + i * ldc + col
                            for r in 0..<rows {
                                let (x, y) = initial16(bias, cols: cols, c: out + r * ldc)
                                store16(x, acc + r * width); store16(y, acc + r * width + panelWidth)
                            }
                            rosetta_bf16_tile(Int32(rows), Int32(panels), block.count,
                                              a16 + (i - start) * depth + 2 * block.lowerBound, depth,
                                              b0 + 2 * panelWidth * block.lowerBound, b1 + 2 * panelWidth * block.lowerBound,
                                              i == start ? next : 0, acc)
                            for r in 0..<rows {
                                storeRow16(load16(acc + r * width), load16(acc + r * width + panelWidth), lo, hi,
                                           cols: cols, residual: last ? residual.map { $0 + (i + r) * ldr + col } : nil,
                                           c: out + r * ldc)
                            }
                            i += rows
                        }
                    }
                    j += cols
                }
                start = end
            }
        }
    }
}
