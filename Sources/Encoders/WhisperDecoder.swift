import Foundation
import Tensor
import Tokenizers

/// Whisper decoding of one 30 s window with a key/value cache, as CTranslate2's `Whisper.generate` does it with the
/// options faster-whisper's `transcribe()` passes (faster_whisper/transcribe.py, `generate_with_fallback`;
/// CTranslate2 src/decoding.cc `BeamSearch`, `GreedySearch`, src/models/whisper.cc):
///
/// - prompt: `<|startofprev|>` + the last 223 `previousTokens` (when conditioning on previous text), then
///   `<|startoftranscript|>` (English-only model: no language or task token), then `<|notimestamps|>` unless
///   `timestamps`;
/// - at every step the config's `suppress_ids` are masked (faster-whisper's `suppress_tokens=[-1]` is the same
///   list), and at the first step also `suppress_ids_begin` (blank and end-of-text: `suppress_blank`); with
///   timestamps, OpenAI's timestamp rules (`applyTimestampRules`, the first timestamp at most
///   `maxInitialTimestamp` steps of 20 ms), without them the timestamp tokens are masked;
/// - temperature 0: beam search (`beamSize` beams, 2·beamSize candidates per step, a finished hypothesis's beam
///   refilled from the next unfinished candidate; decoding ends when round(beamSize·patience) hypotheses have
///   finished, and the best by log-probability / length^lengthPenalty wins; beamSize 1 is greedy decoding);
///   temperature above 0: `bestOf` samples from softmax(logits / T) drawn with a generator seeded by `seed`
///   (CTranslate2 draws from its own generator: sampled output is reproducible here, but is not CTranslate2's);
/// - the no-speech probability is p(`<|nocaptions|>`) in the softmax of the logits at the
///   `<|startoftranscript|>` position; the average log-probability is the winner's summed token log-probability
///   (end-of-text included) over its length + 1 (faster-whisper's avg_logprob).
///
/// With `timestamps` the result's segments are the text between timestamp pairs, and `consumedFrames` says how far
/// the window was transcribed (to its last complete segment), where the next window starts (OpenAI's
/// `transcribe` seeking).
///
/// Beyond the reference, a repetition stop: when the text tokens of the leading hypothesis end in the same
/// 1...32-token pattern `loopRepeats` times in a row, decoding stops, the repeats are cut and the result is marked
/// `looped` (faster-whisper would decode such a window to the token cap and fall back to a higher temperature on
/// its compression ratio; the caller treats `looped` as that fallback).
public struct WhisperDecoder: Sendable {
    public struct Tokens: Sendable, Equatable {
        public var endOfText: Int
        public var startOfTranscript: Int
        public var startOfPrevious: Int
        public var noTimestamps: Int
        public var noSpeech: Int
        /// First timestamp token; every id from here up is a timestamp.
        public var timestampBegin: Int
        public var suppress: [Int]
        public var suppressAtBegin: [Int]
    }

    /// How one window is decoded; the defaults are faster-whisper's `transcribe()` at temperature 0.
    public struct Options: Sendable, Equatable {
        /// Hypotheses kept per step at temperature 0 (1: greedy).
        public var beamSize = 5
        public var patience = 1.0
        public var lengthPenalty = 1.0
        /// 0: the most probable continuation; above 0: `bestOf` samples at this temperature.
        public var temperature = 0.0
        public var bestOf = 5
        public var seed: UInt64 = 0
        public var timestamps = true
        /// Tokens of the previous windows' text the decoder is conditioned on (`<|startofprev|>`).
        public var previousTokens: [Int] = []
        /// The first timestamp may be at most this many 20 ms steps into the window (faster-whisper: 1.0 s).
        public var maxInitialTimestamp = 50

        public init(beamSize: Int = 5, temperature: Double = 0, timestamps: Bool = true, previousTokens: [Int] = []) {
            self.beamSize = beamSize
            self.temperature = temperature
            self.timestamps = timestamps
            self.previousTokens = previousTokens
        }
    }

    public struct Result: Sendable, Equatable {
        /// Generated ids, without the prompt and end-of-text.
        public var tokens: [Int]
        public var text: String
        public var noSpeechProbability: Float
        /// Summed token log-probability (end-of-text included) over the token count + 1 (faster-whisper's
        /// avg_logprob).
        public var averageLogProbability: Float
        /// Stopped by the repetition check (output is the text before the loop).
        public var looped: Bool
        /// Stopped by the token cap before end-of-text.
        public var capped: Bool
        /// With timestamps: the window's segments (seconds from the window's start) and how many of its feature
        /// frames they cover. Without: empty, and nil.
        public var segments: [Segment] = []
        public var consumedFrames: Int?
        /// Beam search (temperature 0, beamSize > 1): the other finished hypotheses, best score first, as text
        /// without timestamps and their summed token log-probability (end-of-text included): the N-best list.
        public var alternatives: [Alternative] = []
        /// The winner's summed token log-probability (end-of-text included), comparable with the alternatives'.
        public var logProbability: Float = 0
    }

    public struct Alternative: Sendable, Equatable {
        public var text: String
        public var logProbability: Float

        public init(text: String, logProbability: Float) {
            self.text = text
            self.logProbability = logProbability
        }
    }

    public struct Segment: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        /// The segment's ids, timestamps included (what conditions the next window).
        public var tokens: [Int]
    }

    /// Seconds per timestamp step, and feature frames per step (Whisper's input stride).
    static let timestampSeconds = 0.02
    static let framesPerTimestamp = 2

    public let model: Whisper
    public let vocabulary: ByteLevelVocabulary
    public let tokens: Tokens
    /// Most tokens generated per window (CTranslate2: half the 448-position table).
    public var maxTokens = 224
    public var loopRepeats = 4

    /// `config` is the CTranslate2 config.json (suppress_ids, suppress_ids_begin).
    public init(model: Whisper, vocabulary: ByteLevelVocabulary, config: [String: Any], file: String) throws(EncoderError) {
        self.model = model
        self.vocabulary = vocabulary
        func id(_ names: String...) throws(EncoderError) -> Int {
            for name in names { if let id = vocabulary.id(name) { return id } }
            throw .invalidConfig(file: file, detail: "vocabulary has no \(names.joined(separator: " or "))")
        }
        guard vocabulary.count == model.config.vocabSize else {
            throw .invalidConfig(file: file, detail: "vocabulary has \(vocabulary.count) tokens, the model \(model.config.vocabSize)")
        }
        let noTimestamps = try id("<|notimestamps|>")
        tokens = Tokens(
            endOfText: try id("<|endoftext|>"), startOfTranscript: try id("<|startoftranscript|>"),
            startOfPrevious: try id("<|startofprev|>"),
            noTimestamps: noTimestamps, noSpeech: try id("<|nocaptions|>", "<|nospeech|>"),
            timestampBegin: noTimestamps + 1,
            suppress: (config["suppress_ids"] as? [Int]) ?? [], suppressAtBegin: (config["suppress_ids_begin"] as? [Int]) ?? [])
    }

    /// Decodes one window's encoder states [audioContext, d]; `contentFrames` are the window's frames that hold
    /// audio (for the segments' ends with timestamps).
    /// `stop` is asked before every decoding step; when it says yes, decoding ends with `EncoderError.stopped`.
    public func decode(_ encoderStates: Tensor, options: Options = Options(), contentFrames: Int = 3_000,
                       stop: () -> Bool = { false }) throws(EncoderError) -> Result {
        do {
            var result = try generate(encoderStates, options: options, stop: stop)
            if options.timestamps { split(&result, contentFrames: contentFrames) }
            return result
        } catch let error as EncoderError { throw error } catch let error as TensorError {
            throw .tensor(error)
        } catch { throw .tensor(.invalidArgument(op: "whisper.decode", detail: "\(error)")) }
    }

    /// faster-whisper's `get_prompt` without prefix or hotwords.
    func prompt(_ options: Options) -> [Int] {
        var prompt: [Int] = []
        if !options.previousTokens.isEmpty {
            prompt = [tokens.startOfPrevious] + options.previousTokens.suffix(model.config.textContext / 2 - 1)
        }
        prompt.append(tokens.startOfTranscript)
        if !options.timestamps { prompt.append(tokens.noTimestamps) }
        return prompt
    }

    private func generate(_ encoderStates: Tensor, options: Options, stop: () -> Bool) throws -> Result {
        var state = try State(model: model, encoderStates: encoderStates)
        let prompt = prompt(options)
        let sot = prompt.lastIndex(of: tokens.startOfTranscript) ?? 0
        let first = try state.step(prompt, rows: [sot, prompt.count - 1])
        var noSpeech = first[0]
        Self.softmax(&noSpeech)
        // CTranslate2: at most min(448 / 2, 448 − the prompt positions before the start token) steps.
        let room = min(maxTokens, model.config.textContext - (prompt.count - 1))
        let hypotheses = options.temperature > 0
            ? [try sample(&state, first: first[1], room: room, options: options, stop: stop)]
            : try beamSearch(&state, first: first[1], room: room, options: options, stop: stop)
        let best = hypotheses[0]
        var result = Result(tokens: best.tokens, text: text(best.tokens), noSpeechProbability: noSpeech[tokens.noSpeech],
                            averageLogProbability: best.logProbability / Float(best.tokens.count + 1),
                            looped: best.looped, capped: !best.ended && !best.looped)
        result.logProbability = best.logProbability
        result.alternatives = hypotheses.dropFirst().filter(\.ended).map {
            Alternative(text: text($0.tokens), logProbability: $0.logProbability)
        }
        return result
    }

    /// The text of generated ids (timestamps and special tokens left out).
    private func text(_ ids: [Int]) -> String {
        vocabulary.decode(ids.filter { $0 < tokens.endOfText })
    }

    /// OpenAI's `ApplyTimestampRules` on the logits of the next token, given the tokens generated so far.
    func applyTimestampRules(_ logits: inout [Float], generated: [Int], maxInitialTimestamp: Int) {
        let begin = tokens.timestampBegin
        logits[tokens.noTimestamps] = -.infinity
        func mask(_ range: Range<Int>) { for t in range where t < logits.count { logits[t] = -.infinity } }
        if generated.isEmpty {
            mask(0..<begin)
            mask((begin + maxInitialTimestamp + 1)..<logits.count)
            return
        }
        let lastWasTimestamp = generated[generated.count - 1] >= begin
        let penultimateWasTimestamp = generated.count < 2 || generated[generated.count - 2] >= begin
        if lastWasTimestamp {
            if penultimateWasTimestamp { mask(begin..<logits.count) } else { mask(0..<tokens.endOfText) }
        }
        if let last = generated.last(where: { $0 >= begin }) {
            mask(begin..<(lastWasTimestamp && !penultimateWasTimestamp ? last : last + 1))
        }
        // Timestamps together more probable than any single text token: a timestamp it is.
        let top = logits.max() ?? 0
        guard top > -.infinity else { return }
        var timestampMass = 0.0, total = 0.0
        var bestText = -Double.infinity
        for (t, v) in logits.enumerated() where v > -.infinity {
            let e = Foundation.exp(Double(v - top))
            total += e
            if t >= begin { timestampMass += e } else { bestText = max(bestText, Double(v - top)) }
        }
        if Foundation.log(timestampMass / total) > bestText - Foundation.log(total) { mask(0..<begin) }
    }

    /// Cuts a timestamped result into segments and finds how far it got (OpenAI `transcribe`'s seek logic):
    /// with complete pairs, up to the last pair, unless the output ended on a lone timestamp (the window was
    /// transcribed to its end); without pairs, one segment over the whole window.
    func split(_ result: inout Result, contentFrames: Int) {
        let begin = tokens.timestampBegin
        let ids = result.tokens
        let isTimestamp = ids.map { $0 >= begin }
        let singleEnding = ids.count >= 2 && !isTimestamp[ids.count - 2] && isTimestamp[ids.count - 1]
            || ids.count == 1 && isTimestamp[0]
        var cuts = (1..<max(1, ids.count)).filter { isTimestamp[$0 - 1] && isTimestamp[$0] }
        func seconds(_ id: Int) -> Double { Double(id - begin) * Self.timestampSeconds }
        func text(_ slice: ArraySlice<Int>) -> String { vocabulary.decode(slice.filter { $0 < tokens.endOfText }) }
        guard !cuts.isEmpty else {
            let lastTimestamp = ids.last(where: { $0 > begin })
            let end = lastTimestamp.map(seconds) ?? Double(contentFrames) / 100
            result.segments = [Segment(start: 0, end: end, text: text(ids[...]), tokens: ids)]
            result.consumedFrames = contentFrames
            return
        }
        if singleEnding { cuts.append(ids.count) }
        var from = 0
        for cut in cuts {
            let slice = ids[from..<cut]
            if let first = slice.first(where: { $0 >= begin }), let last = slice.last(where: { $0 >= begin }) {
                result.segments.append(Segment(start: seconds(first), end: seconds(last), text: text(slice), tokens: Array(slice)))
            }
            from = cut
        }
        let lastPosition = ids[from - 1] - begin
        let consumed = singleEnding ? contentFrames : lastPosition * Self.framesPerTimestamp
        result.consumedFrames = consumed > 0 ? min(consumed, contentFrames) : contentFrames
    }

    static func softmax(_ x: inout [Float]) {
        let top = x.max() ?? 0
        var total: Double = 0
        for i in x.indices { let e = Foundation.exp(Double(x[i] - top)); x[i] = Float(e); total += e }
        for i in x.indices { x[i] = Float(Double(x[i]) / total) }
    }
}
