import Foundation

/// Encoded image bytes -> `RGBImage`. PNG through libpng's simplified API (8/16-bit, palette, grey, alpha,
/// interlaced; 16-bit samples keep their high byte, as PIL does), JPEG through libjpeg-turbo (EXIF
/// orientation applied). Alpha is composited on white with PIL's integer `alpha_composite` arithmetic.
/// The format is sniffed from the first bytes (a MIME type is only a hint); the declared size is read from
/// the header and checked against `maxPixels` before any pixel is decoded.
public enum ImageDecoder {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    /// What the first bytes say the file is; nil when neither PNG nor JPEG (`describe` names it for errors).
    public static func sniff(_ data: Data) -> Format? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    public static func decode(_ data: Data, maxPixels: Int) throws(ImageError) -> RGBImage {
        switch sniff(data) {
        case .png: return try decodePNG(data, maxPixels: maxPixels)
        case .jpeg: return try decodeJPEG(data, maxPixels: maxPixels)
        case nil: throw .unsupportedFormat(detected: describe(data))
        }
    }

    /// A name for bytes that are not PNG or JPEG, for the error message.
    static func describe(_ data: Data) -> String {
        let signatures: [(String, [UInt8])] = [
            ("GIF", Array("GIF8".utf8)), ("BMP", Array("BM".utf8)), ("TIFF", [0x49, 0x49, 0x2A, 0x00]),
            ("TIFF", [0x4D, 0x4D, 0x00, 0x2A]), ("ICO", [0, 0, 1, 0]),
        ]
        if data.count >= 12, data.starts(with: Array("RIFF".utf8)),
           data.dropFirst(8).prefix(4).elementsEqual(Array("WEBP".utf8)) { return "WebP" }
        if data.count >= 12, data.dropFirst(4).prefix(4).elementsEqual(Array("ftyp".utf8)) { return "HEIF/AVIF (ISO BMFF)" }
        if let match = signatures.first(where: { data.starts(with: $0.1) }) { return match.0 }
        if data.isEmpty { return "(empty data)" }
        return "unknown (first bytes " + data.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ") + ")"
    }

    /// PIL `Image.alpha_composite(white, rgba)` per channel: 7 fractional bits, division by 255 by shifts.
    @inline(__always)
    static func onWhite(_ value: UInt8, alpha: UInt8) -> UInt8 {
        let a = UInt32(alpha)
        let coef1 = a * 255 * 255 * 128 / (255 * 255)
        let coef2 = 255 * 128 - coef1
        let t = UInt32(value) * coef1 + 255 * coef2 + (0x80 << 7)
        return UInt8((((t >> 8) + t) >> 8) >> 7)
    }
}
