/// The limits a space enforces while it decodes media (Service's `ServiceLimits` hands them down).
public struct MediaLimits: Sendable, Equatable {
    /// Pixels per image, checked from the image header before decoding.
    public var maxImagePixels: Int
    /// Seconds per audio input.
    public var maxAudioSeconds: Double
    /// Highest sample rate of an audio input, in Hz (read from the header before decoding).
    public var maxAudioSampleRate: Int

    public init(maxImagePixels: Int = 40_000_000, maxAudioSeconds: Double = 600, maxAudioSampleRate: Int = 192_000) {
        self.maxImagePixels = maxImagePixels
        self.maxAudioSeconds = maxAudioSeconds
        self.maxAudioSampleRate = maxAudioSampleRate
    }
}
