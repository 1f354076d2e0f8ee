import Foundation
@testable import Media

/// The PNG and JPEG targets: one decoder on the input, as the server runs it (pixel limit 1 MP). Any input
/// must give an image of exactly width x height pixels or an `ImageError`.
public enum ImageFuzzing {
    public static func decode(_ data: UnsafePointer<UInt8>, _ size: Int, as format: ImageDecoder.Format) {
        let bytes = Data(bytes: data, count: size)
        let maxPixels = 1 << 20
        let image = switch format {
        case .png: try? ImageDecoder.decodePNG(bytes, maxPixels: maxPixels)
        case .jpeg: try? ImageDecoder.decodeJPEG(bytes, maxPixels: maxPixels)
        }
        guard let image else { return }
        precondition(image.pixels.count == image.width * image.height * 3, "decoded \(format) has the wrong pixel count")
        precondition(image.width * image.height <= maxPixels, "decoded \(format) is over the pixel limit")
    }
}
