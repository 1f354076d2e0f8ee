/// Limits on what one request may ask of the server. Reported by `Info`; each violation is refused with
/// RESOURCE_EXHAUSTED or INVALID_ARGUMENT and a message naming the limit.
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
    public var maxTopK: Int = 1_000
    public var maxMetadataBytes: Int = 16 << 10
    public var maxCollections: Int = 1_000
    /// Concurrent streams per connection (enforced by the transport).
    public var maxConcurrentStreams: Int = 256

    public init() {}
}
