import Media

extension AudioDecoder {
    /// A decoder that refuses audio longer than `limits.maxAudioSeconds` or sampled faster than
    /// `limits.maxAudioSampleRate` (both read from the header where the format has one).
    init(limits: MediaLimits) {
        self.init(maxSeconds: limits.maxAudioSeconds)
        sampleRates = sampleRates.lowerBound...max(sampleRates.lowerBound, limits.maxAudioSampleRate)
    }
}
