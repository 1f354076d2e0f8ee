import Foundation
@testable import Media

/// The PNG and JPEG targets: one decoder on the input, as the server runs it (pixel limit 1 MP). Any input
/// must give an image of exactly width x height pixels or an `ImageError`; a decoded image and ConSE's corner
/// regions of it then go through the crop of both kinds of model (a resize larger than the crop, as
/// EfficientNet-Lite's 256 → 224, and equal to it, as CLIP's 224), which must give square crops whatever the
/// geometry (a 1048576x1 image resizes to 33,554,432 columns here: only the crop may be computed). The sizes
/// are the models' divided by 8: the same arithmetic at 1/64 of the cost, so that fuzzing keeps its pace.
public enum ImageFuzzing {
    static let preprocessings = [
        ImagePreprocessing(resize: 32, crop: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]),
        ImagePreprocessing(resize: 28, crop: 28, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]),
    ]

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
        for preprocessing in preprocessings {
            for view in [image] + image.cornerRegions(fraction: 0.6) {
                let crop = preprocessing.cropped(view)
                precondition(crop.width == 28 && crop.height == 28, "\(view.width)x\(view.height) cropped to \(crop.width)x\(crop.height)")
            }
        }
    }
}
