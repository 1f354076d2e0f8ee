/// Why an image could not be decoded. Each case is the client's problem (INVALID_ARGUMENT), except
/// `tooManyPixels` (RESOURCE_EXHAUSTED: a limit of this server); the Service maps them.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not PNG or JPEG by its first bytes (the sniffed kind is named when known, e.g. "GIF").
    case unsupportedFormat(detected: String)
    /// The header declares width·height above the limit; refused before decoding (decompression bombs).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The file is corrupt or truncated; `detail` is the decoder's own message.
    case corrupt(format: String, detail: String)
    /// A valid file using a feature this decoder does not implement (e.g. CMYK JPEG).
    case unsupportedFeature(format: String, detail: String)
    /// Encoding a thumbnail failed (libjpeg's message): a fault of this server, not of the input.
    case encodingFailed(detail: String)

    public var description: String {
        switch self {
        case let .unsupportedFormat(detected):
            "image format \(detected) is not supported (send PNG or JPEG)"
        case let .tooManyPixels(width, height, limit):
            "image is \(width)x\(height) = \(width * height) pixels, over the server's limit of \(limit) pixels"
        case let .corrupt(format, detail):
            "\(format) image is corrupt or truncated: \(detail)"
        case let .unsupportedFeature(format, detail):
            "\(format) image uses an unsupported feature: \(detail)"
        case let .encodingFailed(detail):
            "encoding the image's JPEG thumbnail failed: \(detail)"
        }
    }
}
