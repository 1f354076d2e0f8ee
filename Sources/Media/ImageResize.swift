/// Antialiased bicubic resampling, bit-exact with Pillow's `Image.resize(size, Image.BICUBIC)` on 8-bit images
/// (libImaging/Resample.c): a separable filter whose support widens with the downscale factor (so shrinking
/// averages instead of aliasing), Keys' cubic with a = -0.5, coefficients normalised per output pixel and
/// rounded to 22-bit fixed point, the horizontal pass first (over only the rows the vertical pass reads),
/// each pass rounded and clamped to 8 bits.
public enum ImageResize {
    static let precisionBits = 32 - 8 - 2

    /// Keys cubic convolution kernel, a = -0.5 (support 2).
    static func bicubic(_ x: Double) -> Double {
        let a = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    /// For each output pixel: first input index, tap count, and fixed-point weights (`taps` per pixel).
    struct Coefficients {
        var first: [Int]
        var count: [Int]
        var weights: [Int32]
        var taps: Int
    }

    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 2 * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var c = Coefficients(first: [], count: [], weights: [Int32](repeating: 0, count: outSize * taps), taps: taps)
        var k = [Double](repeating: 0, count: taps)
        for xx in 0..<outSize {
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
                c.weights[xx * taps + x] = Int32(fixed < 0 ? (-0.5 + fixed).rounded(.towardZero) : (0.5 + fixed).rounded(.towardZero))
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
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        let needH = width != image.width, needV = height != image.height
        let vert = coefficients(inSize: image.height, outSize: height)
        var current = image
        var rowOffset = 0
        if needH {
            // Only rows the vertical pass will read.
            let firstRow = needV ? vert.first[0] : 0
            let lastRow = needV ? vert.first[height - 1] + vert.count[height - 1] : image.height
            current = horizontal(image, width: width, rows: firstRow..<lastRow)
            rowOffset = firstRow
        }
        if needV { current = vertical(current, height: height, coefficients: vert, rowOffset: rowOffset) }
        return current
    }

    static func horizontal(_ image: RGBImage, width: Int, rows: Range<Int>) -> RGBImage {
        let c = coefficients(inSize: image.width, outSize: width)
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for (yOut, y) in rows.enumerated() {
                let row = y * image.width * 3
                for x in 0..<width {
                    var acc: (Int64, Int64, Int64) = (1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1))
                    for t in 0..<c.count[x] {
                        let w = Int64(c.weights[x * c.taps + t])
                        let p = row + (c.first[x] + t) * 3
                        acc.0 += Int64(src[p]) * w
                        acc.1 += Int64(src[p + 1]) * w
                        acc.2 += Int64(src[p + 2]) * w
                    }
                    let d = (yOut * width + x) * 3
                    out[d] = clip8(acc.0); out[d + 1] = clip8(acc.1); out[d + 2] = clip8(acc.2)
                }
            }
        }
        return RGBImage(width: width, height: rows.count, pixels: out)
    }

    static func vertical(_ image: RGBImage, height: Int, coefficients c: Coefficients, rowOffset: Int) -> RGBImage {
        let width = image.width
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                for x in 0..<width {
                    var acc: (Int64, Int64, Int64) = (1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1))
                    for t in 0..<c.count[y] {
                        let w = Int64(c.weights[y * c.taps + t])
                        let p = ((c.first[y] - rowOffset + t) * width + x) * 3
                        acc.0 += Int64(src[p]) * w
                        acc.1 += Int64(src[p + 1]) * w
                        acc.2 += Int64(src[p + 2]) * w
                    }
                    let d = (y * width + x) * 3
                    out[d] = clip8(acc.0); out[d + 1] = clip8(acc.1); out[d + 2] = clip8(acc.2)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
