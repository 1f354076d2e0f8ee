import CJPEG
import Foundation

/// A small JPEG of an image, for people to look at (rosetta.v1.Preview): the image resized with the same
/// antialiased bicubic filter as the encoders' preprocessing (`ImageResize`) to at most `maxSide` pixels on its
/// long side (never enlarged), and encoded with libjpeg at the first quality of `qualities` whose output fits
/// `maxBytes`.
///
/// Cost, beside the decoded source: the resize's window is the whole output, so memory is O(maxSide · source
/// height + maxSide²) bytes and time O(maxSide · source height · taps + maxSide² · taps) (ImageResize's bounds;
/// the source itself is bounded by the pixel limit its decoder checked). The encode is O(maxSide²).
public enum Thumbnail {
    public static let qualities: [Int32] = [80, 60, 40, 20]

    public struct Encoded: Sendable, Equatable {
        public var jpeg: [UInt8]
        public var width: Int
        public var height: Int
    }

    /// The thumbnail, or nil when even the lowest quality is over `maxBytes` (not possible at 256 px: a
    /// quality-20 JPEG of 256x256 pixels is a few kilobytes).
    public static func make(_ image: RGBImage, maxSide: Int, maxBytes: Int) throws(ImageError) -> Encoded? {
        let scale = min(1, Double(maxSide) / Double(max(image.width, image.height)))
        let width = max(1, Int((Double(image.width) * scale).rounded()))
        let height = max(1, Int((Double(image.height) * scale).rounded()))
        let small = (width, height) == (image.width, image.height) ? image : ImageResize.bicubic(image, width: width, height: height)
        for quality in qualities {
            let jpeg = try encodeJPEG(small, quality: quality)
            if jpeg.count <= maxBytes { return Encoded(jpeg: jpeg, width: width, height: height) }
        }
        return nil
    }

    /// A baseline JPEG of `image` (`rosetta_jpeg_encode`, Sources/System/CJPEG/rosetta_jpeg.h).
    static func encodeJPEG(_ image: RGBImage, quality: Int32) throws(ImageError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX) + 1)
        let rc = image.pixels.withUnsafeBufferPointer { pixels in
            rosetta_jpeg_encode(pixels.baseAddress, Int32(image.width), Int32(image.height), quality, &out, &size, &message)
        }
        guard rc == ROSETTA_JPEG_OK, let out else {
            let detail = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .encodingFailed(detail: detail.isEmpty ? "libjpeg returned no data" : detail)
        }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}
