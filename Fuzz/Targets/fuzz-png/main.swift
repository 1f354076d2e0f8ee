import Foundation
@testable import Media

/// PNG decoding through libpng (header check, pixel limit, every colour type), then the model preprocessing
/// the server runs on the decoded image. Any input must give an image or an `ImageError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let image = try? ImageDecoder.decodePNG(bytes, maxPixels: 1 << 20) else { return 0 }
    precondition(image.pixels.count == image.width * image.height * 3, "decoded PNG has the wrong pixel count")
    return 0
}
