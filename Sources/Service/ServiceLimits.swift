import Domain
import Spaces

/// Limits on what one request may ask of the server. Reported by `Info`; each violation is refused with
/// RESOURCE_EXHAUSTED or INVALID_ARGUMENT and a message naming the limit. Tokens per text are limited by each
/// model's own maximum (Info.models[].max_tokens): longer texts are refused unless the request asks to truncate.
public struct ServiceLimits: Sendable, Equatable {
    /// Largest gRPC message the server accepts or sends, in bytes (enforced by the transport).
    public var maxMessageBytes: Int = 16 << 20
    /// Inputs per EmbedRequest, items per UpsertRequest.
    public var maxBatchItems: Int = 256
    /// Characters (Unicode scalars) per text input; tokens are limited by each model's own maximum.
    public var maxTextCharacters: Int = 100_000
    /// Pixels per image, checked from the image header before decoding.
    public var maxImagePixels: Int = 40_000_000
    /// Seconds per audio input.
    public var maxAudioSeconds: Double = 600
    /// Highest sample rate of an audio input, in Hz (read from the header before decoding).
    public var maxAudioSampleRate: Int = 192_000
    /// Hits per query (Search top_k), ids per Get.
    public var maxTopK: Int = 1_000
    /// Metadata of one item: keys plus values in bytes (8 per number), and the number of keys.
    public var maxMetadataBytes: Int = 16 << 10
    public var maxMetadataKeys: Int = 64
    /// UTF-8 bytes of one item id.
    public var maxIDBytes: Int = 512
    public var maxCollections: Int = 1_000
    /// Concurrent streams per connection (enforced by the transport).
    public var maxConcurrentStreams: Int = 256

    public init() {}

    /// Hits (Search top_k) or ids (Get) a request may ask for with their previews: as many previews at their byte
    /// cap as fill half of the largest message, so that the response fits one.
    public var maxPreviewItems: Int { max(1, maxMessageBytes / 2 / Preview.maxBytes) }

    /// What the spaces enforce while decoding media.
    public var media: MediaLimits {
        MediaLimits(maxImagePixels: maxImagePixels, maxAudioSeconds: maxAudioSeconds, maxAudioSampleRate: maxAudioSampleRate)
    }
}
