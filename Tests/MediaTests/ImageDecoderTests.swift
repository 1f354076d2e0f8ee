import Foundation
import Testing
import TestSupport
@testable import Media

/// Tests/Fixtures/images (written by models/reference_vision.py).
enum ImageFixtures {
    static let root = RepositoryPaths.fixtures.appendingPathComponent("images")

    static func data(_ path: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(path)) }
    static func rgb(_ path: String) throws -> [UInt8] { [UInt8](try data(path)) }

    static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }
}

@Suite struct ImageDecoderTests {
    /// Variant -> largest per-sample difference from PIL allowed (PNG exact; JPEG: IDCT implementations may
    /// differ by one level; 16-bit: libpng rescales where PIL keeps the high byte).
    static let variants: [(String, Int)] = [
        ("rgb8.png", 0), ("rgba8.png", 0), ("grey8.png", 0), ("grey_alpha.png", 0), ("palette.png", 0),
        ("interlaced.png", 0), ("rgb16.png", 1), ("baseline.jpg", 2), ("progressive.jpg", 2), ("grey.jpg", 2),
        ("exif6.jpg", 2),
    ]

    @Test(arguments: variants)
    func decodesLikePIL(file: String, tolerance: Int) throws {
        let image = try ImageDecoder.decode(try ImageFixtures.data("decode/\(file)"), maxPixels: 1 << 20)
        let expected = try ImageFixtures.rgb("decode/\(file.split(separator: ".")[0]).rgb")
        #expect(image.width == 64 && image.height == 48, "\(file): \(image.width)x\(image.height)")
        #expect(ImageFixtures.maxDifference(image.pixels, expected) <= tolerance)
    }

    @Test func pixelLimitIsCheckedFromTheHeader() throws {
        for file in ["rgb8.png", "baseline.jpg"] {
            #expect(throws: ImageError.tooManyPixels(width: 64, height: 48, limit: 3000)) {
                try ImageDecoder.decode(try ImageFixtures.data("decode/\(file)"), maxPixels: 3000)
            }
        }
    }

    @Test func truncatedJPEGIsRefused() throws {
        let error = #expect(throws: ImageError.self) {
            try ImageDecoder.decode(try ImageFixtures.data("decode/truncated.jpg"), maxPixels: 1 << 20)
        }
        #expect("\(error!)".contains("truncated"))
    }

    @Test func corruptPNGIsRefused() throws {
        let error = #expect(throws: ImageError.self) {
            try ImageDecoder.decode(try ImageFixtures.data("decode/corrupt.png"), maxPixels: 1 << 20)
        }
        guard case .corrupt(let format, _)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(format == "PNG")
    }

    @Test func otherFormatsAreNamed() throws {
        #expect(throws: ImageError.unsupportedFormat(detected: "GIF")) {
            try ImageDecoder.decode(try ImageFixtures.data("decode/not_an_image.gif"), maxPixels: 1 << 20)
        }
        let webp = Data("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)
        #expect(throws: ImageError.unsupportedFormat(detected: "WebP")) { try ImageDecoder.decode(webp, maxPixels: 100) }
        #expect(throws: ImageError.unsupportedFormat(detected: "(empty data)")) { try ImageDecoder.decode(Data(), maxPixels: 100) }
        // A JPEG signature followed by garbage.
        #expect(throws: ImageError.self) { try ImageDecoder.decode(Data([0xFF, 0xD8, 0xFF, 0x00, 0x01]), maxPixels: 100) }
    }

    @Test func exifOrientationsTurnTheImageUpright() {
        // 2x1 image: red, green. Orientation 6 (rotate 90° clockwise) -> 1x2: red on top.
        let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 255, 0])
        #expect(ExifOrientation(value: 6).apply(to: image).pixels == [255, 0, 0, 0, 255, 0])
        #expect(ExifOrientation(value: 8).apply(to: image).pixels == [0, 255, 0, 255, 0, 0])
        #expect(ExifOrientation(value: 2).apply(to: image).pixels == [0, 255, 0, 255, 0, 0])
        #expect(ExifOrientation(value: 3).apply(to: image).pixels == [0, 255, 0, 255, 0, 0])
        #expect(ExifOrientation(value: 6).apply(to: image).height == 2)
    }

    @Test func alphaCompositeOnWhiteMatchesPIL() {
        // PIL: Image.alpha_composite(white, (r, g, b, a)).
        #expect(ImageDecoder.onWhite(0, alpha: 0) == 255)
        #expect(ImageDecoder.onWhite(0, alpha: 255) == 0)
        #expect(ImageDecoder.onWhite(0, alpha: 128) == 127)
        #expect(ImageDecoder.onWhite(200, alpha: 100) == 233)
    }
}

@Suite struct ImageResizeTests {
    @Test(arguments: [(37, 29), (100, 75), (64, 20), (13, 48)])
    func bicubicMatchesPIL(width: Int, height: Int) throws {
        let source = try ImageDecoder.decode(try ImageFixtures.data("decode/rgb8.png"), maxPixels: 1 << 20)
        let resized = ImageResize.bicubic(source, width: width, height: height)
        let expected = try ImageFixtures.rgb("resize/rgb8_\(width)x\(height).rgb")
        #expect(ImageFixtures.maxDifference(resized.pixels, expected) == 0)
    }

    /// Resampling only a window gives exactly the window of the full resample (up, down, one axis only).
    @Test(arguments: [(37, 29, 3, 2, 30, 20), (100, 75, 0, 0, 100, 75), (64, 20, 10, 5, 40, 10), (13, 48, 2, 11, 9, 30)])
    func windowEqualsCroppedFullResize(width: Int, height: Int, x: Int, y: Int, w: Int, h: Int) throws {
        let source = try ImageDecoder.decode(try ImageFixtures.data("decode/rgb8.png"), maxPixels: 1 << 20)
        let window = ImageResize.bicubic(source, width: width, height: height, window: (x, y, w, h))
        let full = ImageResize.bicubic(source, width: width, height: height).cropped(x: x, y: y, width: w, height: h)
        #expect(window == full)
        let rows = min(h, source.height - y)  // the same window, the height kept (horizontal pass only)
        let sameHeight = ImageResize.bicubic(source, width: width, height: source.height, window: (x, y, w, rows))
        #expect(sameHeight == ImageResize.bicubic(source, width: width, height: source.height).cropped(x: x, y: y, width: w, height: rows))
    }

    /// Decode + Resize(256) + CenterCrop(224) of a photo equals PIL's (the JPEG decoders may differ by a level,
    /// which the resize can spread: a small tolerance, and a mean difference far below one level).
    @Test(arguments: ["chelsea", "coffee", "rocket"])
    func imageNetCropMatchesTorchvision(name: String) throws {
        let image = try ImageDecoder.decode(try ImageFixtures.data("photos/\(name).jpg"), maxPixels: 1 << 20)
        let crop = ImagePreprocessing(resize: 256, crop: 224, mean: [0, 0, 0], std: [1, 1, 1]).cropped(image)
        let expected = try ImageFixtures.rgb("pipeline/\(name).rgb")
        #expect(crop.width == 224 && crop.height == 224)
        let diffs = zip(crop.pixels, expected).map { abs(Int($0) - Int($1)) }
        let mean = Double(diffs.reduce(0, +)) / Double(diffs.count)
        #expect(diffs.max()! <= 3, "max difference \(diffs.max()!)")
        #expect(mean < 0.1, "mean difference \(mean)")
    }
}
