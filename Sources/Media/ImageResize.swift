/// Antialiased bicubic resampling, bit-exact with Pillow's `Image.resize(size, Image.BICUBIC)` on 8-bit images
/// (libImaging/Resample.c): a separable filter whose support widens with the downscale factor (so shrinking
/// averages instead of aliasing), Keys' cubic with a = -0.5, coefficients normalised per output pixel and
/// rounded to 22-bit fixed point, the horizontal pass first (over only the rows the vertical pass reads),
/// each pass rounded and clamped to 8 bits.
///
/// Cost of a window of a resize (what the centre crop asks for): coefficients are computed for the window's
/// columns and rows only, never for the whole resized image, so a 1,000,000x1 image "resized" to
/// 256,000,000x256 and cropped to 224x224 costs what a 224x224 output does. For a window of w x h output
/// pixels, with `taps` = 2·⌈2·max(1, in/out)⌉ + 1 per axis and R the input rows the vertical pass reads:
/// memory O(w·taps + h·taps + w·R + w·h) bytes beside the source (R ≤ the source's height), time
/// O(w·R·taps + w·h·taps).
public enum ImageResize {
    static let precisionBits = 32 - 8 - 2

    /// Keys cubic convolution kernel, a = -0.5 (support 2).
    static func bicubic(_ x: Double) -> Double {
        let a = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    /// For the output pixels `outputs` of one axis, the i-th of them at index i: first input index, tap count,
    /// and fixed-point weights (`taps` per pixel).
    struct Coefficients {
        var outputs: Range<Int>
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
        var taps: Int
    }

    /// Pillow's `precompute_coeffs` for an axis of `inSize` pixels resized to `outSize`, computed only for the
    /// output pixels `outputs` (each pixel's coefficients depend on its own index alone, so they equal the
    /// full table's rows).
    static func coefficients(inSize: Int, outSize: Int, for outputs: Range<Int>) -> Coefficients {
        precondition(outputs.lowerBound >= 0 && outputs.upperBound <= outSize, "outputs \(outputs) of \(outSize)")
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 2 * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var c = Coefficients(outputs: outputs, first: [], count: [],
                             weights: [Int32](repeating: 0, count: outputs.count * taps), taps: taps)
        c.first.reserveCapacity(outputs.count)
        c.count.reserveCapacity(outputs.count)
        var k = [Double](repeating: 0, count: taps)
        for (row, xx) in outputs.enumerated() {
            let center = (Double(xx) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, as C's cast
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<xmax {
                k[x] = bicubic((Double(x + xmin) - center + 0.5) / filterScale)
                total += k[x]
            }
            for x in 0..<xmax {
                let w = total != 0 ? k[x] / total : k[x]
                let fixed = w * Double(1 << precisionBits)
                c.weights[row * taps + x] = Int32(fixed < 0 ? (-0.5 + fixed).rounded(.towardZero) : (0.5 + fixed).rounded(.towardZero))
            }
            c.first.append(xmin)
            c.count.append(xmax)
        }
        return c
    }

    @inline(__always)
    static func clip8(_ v: Int64) -> UInt8 {
        let shifted = v >> Int64(precisionBits)
        return UInt8(clamping: shifted)
    }

    /// The image resampled to `width` x `height`.
    public static func bicubic(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        bicubic(image, width: width, height: height, window: (0, 0, width, height))
    }

    /// The `window` (x, y, width, height in output pixels) of the image resampled to `width` x `height`: the same
    /// pixels as resampling everything and cropping, computing only the window (a centre crop keeps ~60% of a
    /// 4:3 image). Each output pixel depends only on its own row and column coefficients.
    public static func bicubic(_ image: RGBImage, width: Int, height: Int,
                               window: (x: Int, y: Int, width: Int, height: Int)) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        precondition(window.x >= 0 && window.y >= 0 && window.width > 0 && window.height > 0
                     && window.x + window.width <= width && window.y + window.height <= height, "window \(window)")
        let columns = window.x..<(window.x + window.width), rows = window.y..<(window.y + window.height)
        let needH = width != image.width, needV = height != image.height
        let vert = coefficients(inSize: image.height, outSize: height, for: needV ? rows : 0..<0)
        // Input rows the vertical pass reads (or the window's rows when there is none).
        let inputRows = needV ? vert.first[0]..<(vert.first[rows.count - 1] + vert.count[rows.count - 1]) : rows
        var current = needH ? horizontal(image, coefficients: coefficients(inSize: image.width, outSize: width, for: columns), rows: inputRows)
                            : image.cropped(x: columns.lowerBound, y: inputRows.lowerBound, width: columns.count,
                                            height: inputRows.count)
        if needV { current = vertical(current, coefficients: vert, rowOffset: inputRows.lowerBound) }
        return current
    }

    /// Output columns `c.outputs` of the horizontal pass over input rows `rows`.
    static func horizontal(_ image: RGBImage, coefficients c: Coefficients, rows: Range<Int>) -> RGBImage {
        let width = c.outputs.count
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        image.pixels.withUnsafeBufferPointer { src in
            c.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { dst in
                    for (yOut, y) in rows.enumerated() {
                        let row = y * image.width * 3
                        for xOut in 0..<width {
                            var acc: (Int64, Int64, Int64) = (1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1))
                            let first = row + c.first[xOut] * 3
                            for t in 0..<c.count[xOut] {
                                let w = Int64(weights[xOut * c.taps + t])
                                let p = first + t * 3
                                acc.0 += Int64(src[p]) * w
                                acc.1 += Int64(src[p + 1]) * w
                                acc.2 += Int64(src[p + 2]) * w
                            }
                            let d = (yOut * width + xOut) * 3
                            dst[d] = clip8(acc.0); dst[d + 1] = clip8(acc.1); dst[d + 2] = clip8(acc.2)
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: rows.count, pixels: out)
    }

    /// The output rows `c.outputs` of the vertical pass; `image` holds input rows from `rowOffset` on.
    static func vertical(_ image: RGBImage, coefficients c: Coefficients, rowOffset: Int) -> RGBImage {
        let rows = c.outputs
        let width = image.width
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        image.pixels.withUnsafeBufferPointer { src in
            c.weights.withUnsafeBufferPointer { weights in
                out.withUnsafeMutableBufferPointer { dst in
                    for yOut in 0..<rows.count {
                        let (first, count) = ((c.first[yOut] - rowOffset) * width * 3, c.count[yOut])
                        for i in 0..<(width * 3) {
                            var acc: Int64 = 1 << (precisionBits - 1)
                            for t in 0..<count { acc += Int64(src[first + t * width * 3 + i]) * Int64(weights[yOut * c.taps + t]) }
                            dst[yOut * width * 3 + i] = clip8(acc)
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: rows.count, pixels: out)
    }
}
