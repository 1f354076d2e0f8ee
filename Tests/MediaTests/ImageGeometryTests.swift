import Foundation
import Testing
@testable import Media

/// Images of extreme aspect ratio (under the pixel limit) cost what their crop costs: the resize that makes a
/// 1,000,000x1 image's shorter side 256 has 256,000,000 columns, of which the crop keeps 224 (issue 24, item 1:
/// coefficients for every resized column drove a server to 9 GB). Peaks are measured in a forked child
/// (`PeakMemory`), with the preprocessing of each model: EfficientNet-Lite (256 → 224), CLIP (224 → 224).
@Suite struct ImageGeometryTests {
    static let models: [(name: String, preprocessing: ImagePreprocessing)] = [
        ("EfficientNet-Lite", ImagePreprocessing(resize: 256, crop: 224, mean: [0.498, 0.498, 0.498], std: [0.502, 0.502, 0.502])),
        ("CLIP", ImagePreprocessing(resize: 224, crop: 224, mean: [0.4815, 0.4578, 0.4082], std: [0.2686, 0.2613, 0.2758])),
    ]
    static let shapes = [(1_000_000, 1), (1, 1_000_000), (100_000, 1), (1, 100_000), (40_000, 3)]
    /// What one 224x224 crop may need beside its source: the 8-bit crop (147 KiB), its float tensor (588 KiB),
    /// the horizontal pass over the rows the crop reads, and the coefficients of 224 columns and rows.
    static let cropBound = 8 << 20

    /// A width x height gradient (made here, not committed: 3 MB for a million pixels).
    static func gradient(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[i * 3] = UInt8(truncatingIfNeeded: i)
            pixels[i * 3 + 1] = UInt8(truncatingIfNeeded: i >> 8)
            pixels[i * 3 + 2] = UInt8(truncatingIfNeeded: i >> 16)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A small image of the same shape class, for `PeakMemory`'s warm-up.
    static func small(_ shape: (width: Int, height: Int)) -> RGBImage {
        gradient(width: min(shape.width, 300), height: min(shape.height, 300))
    }

    @Test(arguments: models.indices, shapes)
    func extremeAspectRatiosCostTheirCrop(model: Int, shape: (width: Int, height: Int)) {
        let (name, preprocessing) = Self.models[model]
        let image = Self.gradient(width: shape.width, height: shape.height)
        let peak = PeakMemory.measure(warmUp: { _ = preprocessing(Self.small(shape)) }) {
            let crop = preprocessing.cropped(image)
            return [crop.width, crop.height, preprocessing.normalized(crop).count]
        }
        #expect(peak.result == [224, 224, 224 * 224 * 3], "\(name) \(shape.width)x\(shape.height): \(peak)")
        #expect(peak.bytes < Self.cropBound, "\(name) \(shape.width)x\(shape.height): \(peak), bound \(Self.cropBound >> 20) MiB")
    }

    /// ConSE's corner regions (fraction 0.6) copy their pixels: 4 · 0.36 of the source together, then each is
    /// preprocessed like any image.
    @Test(arguments: [(1_000_000, 1), (1, 1_000_000)])
    func cornerRegionsCostTheirPixels(shape: (width: Int, height: Int)) {
        let preprocessing = Self.models[0].preprocessing
        let image = Self.gradient(width: shape.width, height: shape.height)
        let peak = PeakMemory.measure(warmUp: { _ = Self.small(shape).cornerRegions(fraction: 0.6).map { preprocessing($0) } }) {
            image.cornerRegions(fraction: 0.6).map { preprocessing($0).count }
        }
        #expect(peak.result == [Int](repeating: 224 * 224 * 3, count: 4), "\(peak)")
        let bound = 4 * image.pixels.count / 2 + 4 * Self.cropBound
        #expect(peak.bytes < bound, "\(shape.width)x\(shape.height): \(peak), bound \(bound >> 20) MiB")
    }

    /// Decoding costs the source's pixels (RGBA from libpng, then RGB: 7 bytes a pixel) and libpng's row
    /// buffers, never the resized image's.
    @Test(arguments: [(1_000_000, 1), (1, 1_000_000)])
    func decodingAnExtremePNGCostsItsPixels(shape: (width: Int, height: Int)) {
        let png = TestPNG.encode(Self.gradient(width: shape.width, height: shape.height))
        let small = TestPNG.encode(Self.small(shape))
        let preprocessing = Self.models[0].preprocessing
        let peak = PeakMemory.measure(warmUp: { _ = try? preprocessing(ImageDecoder.decode(small, maxPixels: 40_000_000)) }) {
            guard let image = try? ImageDecoder.decode(png, maxPixels: 40_000_000) else { return [] }
            return [image.width, image.height, preprocessing(image).count]
        }
        #expect(peak.result == [shape.width, shape.height, 224 * 224 * 3], "\(peak)")
        let bound = 12 * shape.width * shape.height + Self.cropBound
        #expect(peak.bytes < bound, "\(shape.width)x\(shape.height): \(peak), bound \(bound >> 20) MiB")
    }

    /// The crop of an extreme image is the centre of its whole resize (100x1 → 25600x256, crop at 12688, 16).
    @Test func anExtremeCropIsItsResizesCentre() {
        let image = Self.gradient(width: 100, height: 1)
        let crop = Self.models[0].preprocessing.cropped(image)
        let full = ImageResize.bicubic(image, width: 25_600, height: 256)
        #expect(crop == full.cropped(x: 12_688, y: 16, width: 224, height: 224))
    }
}

/// A PNG written here (RGB, 8-bit, filter 0, stored deflate blocks): any size, no compressor needed.
enum TestPNG {
    static func encode(_ image: RGBImage) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((image.width * 3 + 1) * image.height)
        for y in 0..<image.height {
            raw.append(0)
            raw += image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var at = 0
        repeat {
            let n = min(65_535, raw.count - at)
            zlib.append(at + n == raw.count ? 1 : 0)
            zlib += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            zlib += raw[at..<(at + n)]
            at += n
        } while at < raw.count
        zlib += bigEndian(adler32(raw))
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        return Data(png)
    }

    private static func chunk(_ kind: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(kind.utf8) + body
        return bigEndian(UInt32(body.count)) + typed + bigEndian(crc32(typed))
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        return b << 16 | a
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crcTable[Int(($0 ^ UInt32($1)) & 0xff)] ^ ($0 >> 8) }
    }
}
