import Encoders
import Foundation
import Media

/// Audio file -> transcript: decode (libsndfile), resample to 16 kHz, Whisper log-mel, then the encoder and greedy
/// decoder. Up to 30 s: one window, one segment, timestamps off (the reference settings). Longer: timestamps on,
/// one segment per timestamp pair, each window starting where the previous one's last complete segment ended.
///
/// Which words are trustworthy: a window's text is dropped when
/// - p(no speech) > `noSpeechThreshold` and the mean token log-probability < `logProbThreshold` (faster-whisper's
///   no-speech rule, with its defaults 0.6 and −1.0);
/// - decoding looped (the repetition stop fired): greedy Whisper repeating itself is not evidence of words;
/// - p(no speech) > `noSpeechThreshold` and the text is one of Whisper's stock phrases for non-speech ("you",
///   "Thank you.", ...), which it emits on tones and noise (measured: Tests/Fixtures/audio/sfx);
/// - the text has no letters or digits (".", "...").
/// Sound words in brackets ("[MUSIC]", "(beeping)") are kept when they pass these filters.
struct SpeechRecognizer: Sendable {
    struct Segment: Sendable, Equatable {
        var start: Double
        var end: Double
        var text: String
        var noSpeechProbability: Float
        var averageLogProbability: Float
        var looped: Bool
        /// Why the segment's words were dropped (nil: kept).
        var rejected: String?
    }

    struct Transcript: Sendable, Equatable {
        var segments: [Segment]
        var seconds: Double
        /// Kept segments' text, joined.
        var text: String {
            segments.filter { $0.rejected == nil }.map { $0.text.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.joined(separator: " ")
        }
        var noSpeechProbability: Float { segments.map(\.noSpeechProbability).max() ?? 1 }
        /// The kept text cut into sentences (at ". ", "? ", "! " and segment ends): the transcript's token set
        /// for instruction pooling.
        var sentences: [String] {
            var sentences: [String] = []
            for segment in segments where segment.rejected == nil {
                let characters = Array(segment.text)
                var current = ""
                for (i, character) in characters.enumerated() {
                    current.append(character)
                    if ".?!".contains(character), i + 1 == characters.count || characters[i + 1].isWhitespace {
                        sentences.append(current)
                        current = ""
                    }
                }
                sentences.append(current)
            }
            return sentences.map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.unicodeScalars.contains(where: CharacterSet.alphanumerics.contains) }
        }
    }

    let model: LoadedSpeechModel
    let audio: AudioDecoder
    let features = WhisperFeatures()
    var noSpeechThreshold: Float = 0.6
    var logProbThreshold: Float = -1.0

    static let stockPhrases: Set<String> = [
        "you", "thank you", "thanks for watching", "thank you for watching", "bye", "so", "okay", "oh", "ah", "hmm", "um",
    ]

    /// `stop` is asked before decoding and before every window and decoding step; when it says yes the
    /// transcription ends with `SpaceError.abandoned`, so the longest stretch of work a gone caller still costs
    /// is one window's encoder pass or one decoding step.
    func transcribe(_ data: Data, stop: () -> Bool = { false }) throws -> Transcript {
        do {
            return try transcribe(data, stoppingWhen: stop)
        } catch EncoderError.stopped {
            throw SpaceError.abandoned
        }
    }

    private func transcribe(_ data: Data, stoppingWhen stop: () -> Bool) throws -> Transcript {
        guard !stop() else { throw SpaceError.abandoned }
        let samples = try audio.decode(data, rate: WhisperFeatures.sampleRate)
        guard !stop() else { throw SpaceError.abandoned }
        let (values, _, content) = features(samples)
        let seconds = Double(samples.count) / Double(WhisperFeatures.sampleRate)
        guard content > WhisperFeatures.windowFrames else {
            // One window: no timestamps, as the reference settings (and the goldens).
            let states = try model.whisper.encode(features.window(values, contentFrames: content, index: 0))
            let result = try model.decoder.decode(states, stop: stop)
            return Transcript(segments: [segment(result, start: 0, end: seconds, text: result.text)], seconds: seconds)
        }
        // Long audio: windows from wherever the previous one's last complete segment ended (timestamps on), so
        // that no words are cut at a fixed 30 s boundary.
        var segments: [Segment] = []
        var seek = 0
        while seek < content {
            guard !stop() else { throw SpaceError.abandoned }
            let frames = min(WhisperFeatures.windowFrames, content - seek)
            let states = try model.whisper.encode(features.window(values, contentFrames: content, from: seek))
            let result = try model.decoder.decode(states, timestamps: true, contentFrames: frames, stop: stop)
            let offset = Double(seek) / 100
            segments += result.segments.map { segment(result, start: offset + $0.start, end: min(seconds, offset + $0.end), text: $0.text) }
            seek += max(1, result.consumedFrames ?? frames)
        }
        return Transcript(segments: segments, seconds: seconds)
    }

    private func segment(_ result: WhisperDecoder.Result, start: Double, end: Double, text: String) -> Segment {
        var segment = Segment(start: start, end: end, text: text, noSpeechProbability: result.noSpeechProbability,
                              averageLogProbability: result.averageLogProbability, looped: result.looped)
        segment.rejected = rejection(of: segment)
        return segment
    }

    func rejection(of s: Segment) -> String? {
        let words = s.text.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == " " }
        let normalized = String(String.UnicodeScalarView(words)).split(separator: " ").joined(separator: " ")
        if s.looped { return "decoding looped" }
        if normalized.isEmpty { return "no words" }
        if s.noSpeechProbability > noSpeechThreshold {
            if s.averageLogProbability < logProbThreshold { return "no speech (low confidence)" }
            if Self.stockPhrases.contains(normalized) { return "no speech (a phrase Whisper emits on non-speech)" }
        }
        return nil
    }
}
