import Foundation
@testable import Media

/// JPEG decoding through libjpeg-turbo (header check, pixel limit, EXIF orientation, grey and progressive),
/// as the server runs it. Any input must give an image or an `ImageError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    guard let image = try? ImageDecoder.decodeJPEG(bytes, maxPixels: 1 << 20) else { return 0 }
    precondition(image.pixels.count == image.width * image.height * 3, "decoded JPEG has the wrong pixel count")
    return 0
}
