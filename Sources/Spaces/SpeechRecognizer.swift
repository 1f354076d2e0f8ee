import Encoders
import Foundation
import Media
import Tensor

/// Audio file -> transcript, as faster-whisper's `transcribe()` (faster_whisper/transcribe.py `generate_segments`,
/// with `SpeechDecoding`'s options; no VAD, no word timestamps): decode (libsndfile), resample to 16 kHz, Whisper
/// log-mel; then 30 s windows, each encoded and decoded with timestamps (`WhisperDecoder`) at the first acceptable
/// temperature, conditioned on the text so far; each window ends where its last complete segment ended and the
/// next one starts there. Segments are the text between timestamp pairs.
///
/// Which words are trustworthy (sounds without words get none — tones, chords, noise, music — since Whisper
/// says something for nearly every sound; the thresholds are measured on Tests/Fixtures/audio/decoding and the
/// long recordings, where windows of speech have p(no speech) ≤ 0.57 and sounds without words ≥ 0.78):
/// - a window faster-whisper skips: p(no speech) > `noSpeechThreshold` and mean token log-probability not above
///   `logProbThreshold`;
/// - p(no speech) > `noSpeechThreshold` and a mean log-probability below `weakLogProbability`;
/// - a window no temperature decoded acceptably (its text loops, compresses above the ratio threshold, or stays
///   below the log-probability threshold) while p(no speech) > `noSpeechThreshold`;
/// - one of Whisper's known hallucinations on sounds without words ("you", "Thank you.", "Thanks for
///   watching!", ...: `hallucinations`) unless p(no speech) ≤ `hallucinationNoSpeech` and the mean
///   log-probability ≥ `weakLogProbability`;
/// - nothing but one word n-gram three or more times over ("beep, beep, beep");
/// - no letters or digits (".", "♪").
/// Sound words in brackets ("[MUSIC]", "(beeping)") are kept when they pass these filters.
public struct SpeechRecognizer: Sendable {
    struct Segment: Sendable, Equatable {
        var start: Double
        var end: Double
        var text: String
        var noSpeechProbability: Float
        var averageLogProbability: Float
        /// The window's decode failed faster-whisper's acceptance at every temperature (or looped).
        var unacceptable: Bool
        /// The window was skipped by faster-whisper's no-speech rule (its text is what the decoder said anyway).
        var skipped = false
        /// Why the segment's words were dropped (nil: kept).
        var rejected: String?
    }

    public struct Transcript: Sendable, Equatable {
        var segments: [Segment]
        public var seconds: Double
        /// The N-best list of a transcript that is one kept segment run of one beam-decoded window (`nBest` > 1):
        /// the best text and the other hypotheses, each with its probability normalised over the list; empty
        /// otherwise (longer audio: each window's alternatives would multiply).
        public var hypotheses: [(text: String, weight: Double)] = []

        public static func == (a: Self, b: Self) -> Bool {
            a.segments == b.segments && a.seconds == b.seconds
                && a.hypotheses.map(\.text) == b.hypotheses.map(\.text) && a.hypotheses.map(\.weight) == b.hypotheses.map(\.weight)
        }
        /// Kept segments' text, joined.
        public var text: String { Self.joined(segments.filter { $0.rejected == nil }) }
        /// faster-whisper's transcript: every segment of the windows it does not skip, trusted or not.
        public var decodedText: String { Self.joined(segments.filter { !$0.skipped }) }

        private static func joined(_ segments: [Segment]) -> String {
            segments.map { $0.text.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        }
        var noSpeechProbability: Float { segments.map(\.noSpeechProbability).max() ?? 1 }
        /// The kept text cut into sentences and clauses (at ". ", "? ", "! ", ", " and segment ends): the
        /// transcript's token set for instruction pooling (beam search often joins two spoken sentences with a comma).
        var sentences: [String] {
            var sentences: [String] = []
            for segment in segments where segment.rejected == nil {
                let characters = Array(segment.text)
                var current = ""
                for (i, character) in characters.enumerated() {
                    current.append(character)
                    if ".?!,".contains(character), i + 1 == characters.count || characters[i + 1].isWhitespace {
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

    /// One window's accepted decode: what `generate_with_fallback` returns.
    struct WindowDecode {
        var result: WhisperDecoder.Result
        var temperature: Double
        var acceptable: Bool
    }

    let model: LoadedSpeechModel
    let audio: AudioDecoder
    var decoding: SpeechDecoding
    let features = WhisperFeatures()
    /// Above this p(no speech), a known hallucination is not trusted.
    var hallucinationNoSpeech: Float = 0.1
    /// Below this mean log-probability, words Whisper gives little weight to.
    var weakLogProbability: Float = -0.5

    public init(model: LoadedSpeechModel, audio: AudioDecoder, decoding: SpeechDecoding = SpeechDecoding()) {
        self.model = model
        self.audio = audio
        self.decoding = decoding
    }

    /// Whisper's known outputs on sounds without words (normalised: lower case, letters, digits and spaces).
    static let hallucinations: Set<String> = [
        "you", "thank you", "thanks", "thank you very much", "thanks for watching", "thank you for watching",
        "thank you so much for watching", "please subscribe", "subscribe", "bye", "bye bye", "so", "okay", "oh",
        "ah", "hmm", "um", "uh", "huh", "music", "applause", "laughter", "silence", "beep", "beeping", "the end",
    ]

    /// `stop` is asked before decoding and before every window and decoding step; when it says yes the
    /// transcription ends with `SpaceError.abandoned`, so the longest stretch of work a gone caller still costs
    /// is one window's encoder pass or one decoding step.
    public func transcribe(_ data: Data, stop: () -> Bool = { false }) throws -> Transcript {
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
        var segments: [Segment] = []
        var windows: [WindowDecode] = []
        var tokens: [Int] = []          // every kept segment's ids: the text the next window is conditioned on
        var promptFrom = 0
        var seek = 0
        while seek < content {
            guard !stop() else { throw SpaceError.abandoned }
            let frames = min(WhisperFeatures.windowFrames, content - seek)
            let states = try model.whisper.encode(features.window(values, contentFrames: content, from: seek))
            let window = try decode(states, previous: Array(tokens[promptFrom...]), frames: frames, seek: seek, stop: stop)
            windows.append(window)
            let result = window.result
            let offset = Double(seek) / 100
            if result.noSpeechProbability > decoding.noSpeechThreshold,
               !(result.averageLogProbability > decoding.logProbThreshold) {
                // faster-whisper skips the window: no speech.
                var skipped = segment(window, start: offset, end: offset + Double(frames) / 100, text: result.text)
                skipped.skipped = true
                skipped.rejected = "no speech"
                segments.append(skipped)
                seek += frames
                continue
            }
            for s in result.segments where s.start != s.end && !s.text.trimmingCharacters(in: .whitespaces).isEmpty {
                tokens += s.tokens
                segments.append(segment(window, start: offset + s.start, end: min(seconds, offset + s.end), text: s.text))
            }
            seek += max(1, result.consumedFrames ?? frames)
            if !decoding.conditionOnPreviousText || window.temperature > decoding.promptResetOnTemperature {
                promptFrom = tokens.count
            }
        }
        var transcript = Transcript(segments: segments, seconds: seconds)
        if decoding.nBest > 1, windows.count == 1, let window = windows.first, window.temperature == 0,
           !window.result.alternatives.isEmpty, segments.allSatisfy({ $0.rejected == nil }), !transcript.text.isEmpty {
            transcript.hypotheses = Self.nBest(best: WhisperDecoder.Alternative(text: transcript.text, logProbability: window.result.logProbability),
                                               alternatives: window.result.alternatives, count: decoding.nBest)
        }
        return transcript
    }

    /// The best text and the next `count` − 1 distinct alternatives with words, weighted by sequence
    /// probability: softmax of the summed token log-probabilities over the list.
    static func nBest(best: WhisperDecoder.Alternative, alternatives: [WhisperDecoder.Alternative],
                      count: Int) -> [(text: String, weight: Double)] {
        var list = [(text: best.text, logProbability: best.logProbability)]
        var seen: Set<[String]> = [normalized(best.text)]
        for alternative in alternatives where list.count < count {
            let text = alternative.text.trimmingCharacters(in: .whitespaces)
            let words = normalized(text)
            guard !words.isEmpty, seen.insert(words).inserted else { continue }
            list.append((text, alternative.logProbability))
        }
        let top = Double(list.map(\.logProbability).max() ?? 0)
        let weights = list.map { Foundation.exp(Double($0.logProbability) - top) }
        let total = weights.reduce(0, +)
        return zip(list, weights).map { ($0.text, $1 / total) }
    }

    /// faster-whisper's `generate_with_fallback`: the first temperature whose decode is acceptable; a silent
    /// window needs no retry; if none is, the best by average log-probability (among those under the
    /// compression-ratio threshold, if any). Sampled windows draw from a generator seeded by the window's start.
    func decode(_ states: Tensor, previous: [Int], frames: Int, seek: Int, stop: () -> Bool) throws -> WindowDecode {
        var all: [WindowDecode] = [], compressible: [WindowDecode] = []
        let temperatures = decoding.temperatures.isEmpty ? [0] : decoding.temperatures
        for temperature in temperatures {
            var options = WhisperDecoder.Options(beamSize: temperature > 0 ? 1 : decoding.beamSize, temperature: temperature,
                                                 previousTokens: previous)
            options.bestOf = decoding.bestOf
            options.seed = UInt64(seek) &* 1_000_003 &+ UInt64(temperature * 10)
            let result = try model.decoder.decode(states, options: options, contentFrames: frames, stop: stop)
            let ratio = SpeechDecoding.compressionRatio(result.text.trimmingCharacters(in: .whitespaces))
            var decode = WindowDecode(result: result, temperature: temperature, acceptable: true)
            let repetitive = result.looped || ratio > decoding.compressionRatioThreshold
            let unsure = result.averageLogProbability < decoding.logProbThreshold
            let silent = result.noSpeechProbability > decoding.noSpeechThreshold && unsure
            if !repetitive { compressible.append(decode) }
            if silent || !(repetitive || unsure) { return decode }
            decode.acceptable = false
            all.append(decode)
        }
        // Every temperature was tried and none accepted: `all` holds them all.
        let pool = compressible.isEmpty ? all : compressible
        var best = pool[0]
        for candidate in pool where candidate.result.averageLogProbability > best.result.averageLogProbability { best = candidate }
        best.temperature = temperatures[temperatures.count - 1]
        return best
    }

    private func segment(_ window: WindowDecode, start: Double, end: Double, text: String) -> Segment {
        var segment = Segment(start: start, end: end, text: text, noSpeechProbability: window.result.noSpeechProbability,
                              averageLogProbability: window.result.averageLogProbability,
                              unacceptable: !window.acceptable || window.result.looped)
        segment.rejected = rejection(of: segment)
        return segment
    }

    func rejection(of s: Segment) -> String? {
        let words = Self.normalized(s.text)
        let p = s.noSpeechProbability, logProbability = s.averageLogProbability
        if words.isEmpty { return "no words" }
        if p > decoding.noSpeechThreshold && logProbability < weakLogProbability { return "no speech, weak words" }
        if s.unacceptable && p > decoding.noSpeechThreshold { return "no confident decoding at any temperature" }
        if Self.hallucinations.contains(words.joined(separator: " ")) && (p > hallucinationNoSpeech || logProbability < weakLogProbability) {
            return "a phrase Whisper emits on sounds without words"
        }
        if Self.isRepetition(words) { return "one word group repeated" }
        return nil
    }

    /// Lower-case words of letters and digits.
    static func normalized(_ text: String) -> [String] {
        let kept = text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : " " }
        return String(kept).split(separator: " ").map(String.init)
    }

    /// The words are one 1...4-word n-gram three or more times over ("you you you", "beep, beep, beep",
    /// "thank you thank you thank you"): how Whisper fills sounds without words. Speech that merely contains a
    /// repeat ("the side of the side of the side") is not this.
    static func isRepetition(_ words: [String]) -> Bool {
        for n in 1...4 where words.count >= 3 * n && words.count % n == 0 {
            let gram = words[0..<n]
            if stride(from: n, to: words.count, by: n).allSatisfy({ words[$0..<($0 + n)] == gram }) { return true }
        }
        return false
    }
}
