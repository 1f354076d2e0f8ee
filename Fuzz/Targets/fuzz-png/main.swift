import FuzzSupport

/// PNG decoding through libpng: signature and header checks, the pixel limit read from the header, every
/// colour type, bit depth and interlacing (`ImageFuzzing`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ImageFuzzing.decode(data, size, as: .png)
    return 0
}
