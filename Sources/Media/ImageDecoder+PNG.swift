import CPNG
import Foundation

extension ImageDecoder {
    /// libpng's simplified API reads every PNG colour type and bit depth into 8-bit RGBA (16-bit samples are
    /// reduced to 8 bits, palettes and grey expanded, tRNS turned into alpha, interlacing undone) and reports
    /// errors as a return value with a message — no longjmp reaches Swift.
    static func decodePNG(_ data: Data, maxPixels: Int) throws(ImageError) -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw .corrupt(format: "PNG", detail: message(of: image)) }
        let (width, height) = (Int(image.width), Int(image.height))
        guard width * height <= maxPixels else { throw .tooManyPixels(width: width, height: height, limit: maxPixels) }
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)  // PNG_FORMAT_RGBA
        // 16-bit samples without gAMA/sRGB chunks are sRGB-encoded, as PIL assumes (libpng would otherwise
        // take them as linear light): the reduction to 8 bits is then a rescale, within 1 of PIL's high byte.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw .corrupt(format: "PNG", detail: message(of: image)) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let alpha = rgba[i * 4 + 3]
            for c in 0..<3 {
                let v = rgba[i * 4 + c]
                rgb[i * 3 + c] = hasAlpha && alpha != 255 ? onWhite(v, alpha: alpha) : v
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
