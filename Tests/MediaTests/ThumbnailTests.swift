import Foundation
import Testing
import TestSupport
@testable import Media

/// `Thumbnail`: at most `maxSide` on the long side with the aspect ratio kept, never enlarged, a JPEG that our own
/// decoder reads back at that size and close to the resized pixels, and within the byte cap (lower qualities
/// first tried, nil when none fits).
@Suite struct ThumbnailTests {
    @Test func aPhotoShrinksToItsLongSideAndReadsBack() throws {
        let image = try ImageDecoder.decode(try ImageFixtures.data("photos/clock.jpg"), maxPixels: 1 << 22)
        let thumbnail = try #require(try Thumbnail.make(image, maxSide: 256, maxBytes: 48 << 10))
        #expect(max(thumbnail.width, thumbnail.height) == 256)
        let expectedShort = Int((Double(min(image.width, image.height)) * 256 / Double(max(image.width, image.height))).rounded())
        #expect(min(thumbnail.width, thumbnail.height) == expectedShort)
        let decoded = try ImageDecoder.decode(Data(thumbnail.jpeg), maxPixels: 1 << 20)
        #expect(decoded.width == thumbnail.width && decoded.height == thumbnail.height)
        let resized = ImageResize.bicubic(image, width: thumbnail.width, height: thumbnail.height)
        let meanError = zip(decoded.pixels, resized.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } / decoded.pixels.count
        #expect(meanError <= 4, "JPEG quality 80 stays within a few levels on average")
    }

    @Test func aSmallImageIsNotEnlarged() throws {
        let image = RGBImage(width: 40, height: 30, pixels: [UInt8](repeating: 128, count: 40 * 30 * 3))
        let thumbnail = try #require(try Thumbnail.make(image, maxSide: 256, maxBytes: 48 << 10))
        #expect(thumbnail.width == 40 && thumbnail.height == 30)
    }

    @Test func theByteCapLowersTheQualityOrGivesNothing() throws {
        var random = SeededRandom(seed: 7)
        let noise = RGBImage(width: 256, height: 256, pixels: (0 ..< 256 * 256 * 3).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let best = try #require(try Thumbnail.make(noise, maxSide: 256, maxBytes: .max))
        let capped = try #require(try Thumbnail.make(noise, maxSide: 256, maxBytes: best.jpeg.count - 1))
        #expect(capped.jpeg.count < best.jpeg.count)
        #expect(try Thumbnail.make(noise, maxSide: 256, maxBytes: 100) == nil)
    }
}
