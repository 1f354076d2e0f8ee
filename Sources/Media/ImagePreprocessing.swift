/// The classic ImageNet evaluation transform (torchvision `Resize(resize, BICUBIC)`, `CenterCrop(crop)`,
/// `ToTensor`, `Normalize(mean, std)`), on an `RGBImage`: what EfficientNet and CLIP image towers take.
public struct ImagePreprocessing: Sendable, Equatable {
    /// Shorter side after resizing (the longer one keeps the aspect ratio, truncated as torchvision does).
    public var resize: Int
    /// Side of the square centre crop.
    public var crop: Int
    public var mean: [Float]
    public var std: [Float]

    public init(resize: Int, crop: Int, mean: [Float], std: [Float]) {
        self.resize = resize
        self.crop = crop
        self.mean = mean
        self.std = std
    }

    /// Resized so the shorter side is `resize`, then centre-cropped to `crop` x `crop` (8-bit, as PIL).
    ///
    /// Bounded by the crop and the source, never by the resized image (a 1,000,000x1 image resizes to
    /// 256,000,000x256): only the crop's columns and rows are resampled (`ImageResize`), so beside the decoded
    /// source it needs O(crop² + crop·R) bytes, R being the source rows the crop reads (R ≤ crop + 4 unless the
    /// resize shrinks the rows, and crop·R ≤ the source's pixels when it does): O(source pixels + crop²) memory
    /// and O(source pixels + crop²·taps) time, taps = 2·⌈2·max(1, source/resize)⌉ + 1. Measured for 224 crops of
    /// 1,000,000x1 and 1x1,000,000 images by Tests/MediaTests/ImageGeometryTests.swift.
    public func cropped(_ image: RGBImage) -> RGBImage {
        let (w, h) = (image.width, image.height)
        let (nw, nh) = w <= h ? (resize, Int(Double(resize) * Double(h) / Double(w)))
                              : (Int(Double(resize) * Double(w) / Double(h)), resize)
        // torchvision rounds the offset half to even (Python's round); a crop larger than the image is not padded.
        let left = Int((Double(nw - crop) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(nh - crop) / 2).rounded(.toNearestOrEven))
        let side = min(crop, nw, nh)
        // Only the crop is resampled (the same pixels as resizing everything, then cropping).
        if (nw, nh) == (w, h) { return image.cropped(x: max(0, left), y: max(0, top), width: side, height: side) }
        return ImageResize.bicubic(image, width: nw, height: nh, window: (max(0, left), max(0, top), side, side))
    }

    /// `(pixel / 255 - mean) / std` per channel, channels last: [crop, crop, 3] row-major.
    public func normalized(_ image: RGBImage) -> [Float] {
        var out = [Float](repeating: 0, count: image.pixels.count)
        let (m, s) = ((mean[0], mean[1], mean[2]), (std[0], std[1], std[2]))
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(image.width * image.height) {
                    dst[i * 3] = (Float(src[i * 3]) / 255 - m.0) / s.0
                    dst[i * 3 + 1] = (Float(src[i * 3 + 1]) / 255 - m.1) / s.1
                    dst[i * 3 + 2] = (Float(src[i * 3 + 2]) / 255 - m.2) / s.2
                }
            }
        }
        return out
    }

    /// `cropped` then `normalized`.
    public func callAsFunction(_ image: RGBImage) -> [Float] { normalized(cropped(image)) }
}
