import FuzzSupport

/// JPEG decoding through libjpeg-turbo: markers, the pixel limit read from the header, EXIF orientation,
/// grey, progressive and truncated streams (`ImageFuzzing`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ImageFuzzing.decode(data, size, as: .jpeg)
    return 0
}
