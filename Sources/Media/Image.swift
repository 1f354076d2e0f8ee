/// A decoded image: 8-bit RGB, row-major, 3 bytes per pixel, top row first, as it should be displayed
/// (EXIF orientation applied, alpha composited on white). What every image model's preprocessing starts from.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// width·height·3 bytes: R, G, B of pixel (x, y) at (y·width + x)·3.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixels inside `x..<x+width`, `y..<y+height` (must lie inside the image).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && x + w <= width && y + h <= height, "crop outside \(width)x\(height)")
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for row in 0..<h {
            let src = ((y + row) * width + x) * 3
            out[(row * w * 3)..<((row + 1) * w * 3)] = pixels[src..<(src + w * 3)]
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

extension RGBImage {
    /// The four corner regions, each `fraction` of the width and height (overlapping when fraction > 0.5):
    /// views in which an object off the centre fills more of the frame than in the whole image. Each is a copy,
    /// 4·fraction² of the image's bytes together, whatever its aspect ratio.
    public func cornerRegions(fraction: Double) -> [RGBImage] {
        let w = max(1, Int((Double(width) * fraction).rounded()))
        let h = max(1, Int((Double(height) * fraction).rounded()))
        return [(0, 0), (width - w, 0), (0, height - h), (width - w, height - h)].map { x, y in
            cropped(x: x, y: y, width: w, height: h)
        }
    }
}
