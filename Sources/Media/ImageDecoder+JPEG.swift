import CJPEG
import Foundation

extension ImageDecoder {
    /// libjpeg-turbo through `rosetta_jpeg_decode` (Sources/System/CJPEG/rosetta_jpeg.h: the decode runs in C
    /// so libjpeg's longjmp error path never crosses Swift frames), then the EXIF orientation applied.
    static func decodeJPEG(_ data: Data, maxPixels: Int) throws(ImageError) -> RGBImage {
        var rgb: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX) + 1)
        let rc = data.withUnsafeBytes { raw in
            rosetta_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), UInt(max(0, maxPixels)),
                                &rgb, &width, &height, &message)
        }
        let (w, h) = (Int(width), Int(height))
        switch Int(rc) {
        case Int(ROSETTA_JPEG_OK):
            guard let rgb else { throw .corrupt(format: "JPEG", detail: "decoder returned no pixels") }
            defer { free(rgb) }
            let image = RGBImage(width: w, height: h, pixels: Array(UnsafeBufferPointer(start: rgb, count: w * h * 3)))
            return ExifOrientation.read(jpeg: data).apply(to: image)
        case Int(ROSETTA_JPEG_TOO_LARGE):
            throw .tooManyPixels(width: w, height: h, limit: maxPixels)
        default:
            let detail = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if detail.contains("color conversion") || detail.contains("Unsupported") {
                throw .unsupportedFeature(format: "JPEG", detail: detail)
            }
            throw .corrupt(format: "JPEG", detail: detail.isEmpty ? "decoding failed" : detail)
        }
    }
}
