import Foundation

/// The EXIF Orientation tag (0x0112) of a JPEG: how the stored pixels must be turned to display upright.
/// Values as in the EXIF 2.3 spec and PIL's `ImageOps.exif_transpose`: 1 as stored, 2 mirrored, 3 rotated 180°,
/// 4 flipped, 5 transposed, 6 rotated 90° clockwise, 7 transversed, 8 rotated 90° counter-clockwise.
public struct ExifOrientation: Sendable, Equatable {
    public let value: Int

    public static let upright = ExifOrientation(value: 1)

    public init(value: Int) { self.value = (1...8).contains(value) ? value : 1 }

    /// Finds APP1 "Exif\0\0" before the first scan and reads IFD0's Orientation; `.upright` when absent or unreadable.
    public static func read(jpeg data: Data) -> ExifOrientation {
        let bytes = [UInt8](data.prefix(1 << 20))
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan / end of image
            let length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            let body = at + 4
            if marker == 0xE1, body + 6 <= bytes.count, Array(bytes[body..<(body + 6)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return ExifOrientation(value: tiffOrientation(bytes, tiff: body + 6, end: min(at + 2 + length, bytes.count)))
            }
            at += 2 + length
        }
        return .upright
    }

    private static func tiffOrientation(_ b: [UInt8], tiff: Int, end: Int) -> Int {
        guard tiff + 8 <= end else { return 1 }
        let little = b[tiff] == 0x49
        func u16(_ i: Int) -> Int { i + 2 <= end ? (little ? Int(b[i]) | Int(b[i + 1]) << 8 : Int(b[i]) << 8 | Int(b[i + 1])) : 0 }
        func u32(_ i: Int) -> Int { u16(little ? i + 2 : i) << 16 | u16(little ? i : i + 2) }
        let ifd = tiff + u32(tiff + 4)
        let count = u16(ifd)
        for entry in 0..<count {
            let e = ifd + 2 + entry * 12
            guard e + 12 <= end else { break }
            if u16(e) == 0x0112 { return u16(e + 8) }
        }
        return 1
    }

    /// The image turned upright.
    public func apply(to image: RGBImage) -> RGBImage {
        guard value != 1 else { return image }
        let (w, h) = (image.width, image.height)
        let swaps = value >= 5
        let (ow, oh) = swaps ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<oh {
                for x in 0..<ow {
                    // Source pixel shown at (x, y) of the upright image.
                    let (sx, sy): (Int, Int) = switch value {
                    case 2: (w - 1 - x, y)
                    case 3: (w - 1 - x, h - 1 - y)
                    case 4: (x, h - 1 - y)
                    case 5: (y, x)
                    case 6: (y, h - 1 - x)
                    case 7: (w - 1 - y, h - 1 - x)
                    default: (w - 1 - y, x)  // 8
                    }
                    let (d, s) = ((y * ow + x) * 3, (sy * w + sx) * 3)
                    out[d] = src[s]; out[d + 1] = src[s + 1]; out[d + 2] = src[s + 2]
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
