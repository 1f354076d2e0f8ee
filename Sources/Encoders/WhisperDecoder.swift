import Foundation
import Tensor
import Tokenizers

/// Greedy decoding of Whisper with a key/value cache, as CTranslate2's `Whisper.generate(beam_size=1)` does it with
/// faster-whisper's defaults for one window without timestamps:
/// prompt `<|startoftranscript|><|notimestamps|>` (English-only model: no language or task token);
/// at every step the config's `suppress_ids` and the timestamp tokens are masked, and at the first step also
/// `suppress_ids_begin` (blank and end-of-text: "suppress_blank"); the arg-max token is taken until
/// `<|endoftext|>` or the token cap. The no-speech probability is p(`<|nocaptions|>`) in the softmax of the
/// logits at the `<|startoftranscript|>` position (CTranslate2's `return_no_speech_prob`).
///
/// With `timestamps` (long audio, which is cut where the speech allows rather than every 30 s): prompt
/// `<|startoftranscript|>` alone, and OpenAI's timestamp rules, as CTranslate2 applies them: the first token is a
/// timestamp ≤ 1 s; timestamps come in pairs (a lone one must be followed by another or by end-of-text; a pair by
/// text); they never go back; and when the timestamp tokens together outweigh the best text token, a timestamp
/// is forced. The result's segments are the text between pairs, and `consumedFrames` says how far the window was
/// transcribed (to its last complete segment), where the next window starts (OpenAI's `transcribe` seeking).
///
/// Beyond the reference, a repetition stop: when the tail of the output is the same 1...32-token pattern
/// `loopRepeats` times in a row, decoding stops, the repeats are cut and the result is marked `looped` — greedy
/// Whisper can otherwise loop to the token cap (faster-whisper re-decodes such windows at higher temperatures; we
/// flag them instead).
public struct WhisperDecoder: Sendable {
    public struct Tokens: Sendable, Equatable {
        public var endOfText: Int
        public var startOfTranscript: Int
        public var noTimestamps: Int
        public var noSpeech: Int
        /// First timestamp token; every id from here up is a timestamp.
        public var timestampBegin: Int
        public var suppress: [Int]
        public var suppressAtBegin: [Int]
    }

    public struct Result: Sendable, Equatable {
        /// Generated ids, without the prompt and end-of-text.
        public var tokens: [Int]
        public var text: String
        public var noSpeechProbability: Float
        /// Mean log-probability per token, end-of-text included (faster-whisper's avg_logprob).
        public var averageLogProbability: Float
        /// Stopped by the repetition check (output is the text before the loop).
        public var looped: Bool
        /// Stopped by the token cap before end-of-text.
        public var capped: Bool
        /// With timestamps: the window's segments (seconds from the window's start) and how many of its feature
        /// frames they cover. Without: empty, and nil.
        public var segments: [Segment] = []
        public var consumedFrames: Int?
    }

    public struct Segment: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
    }

    /// Seconds per timestamp step, and feature frames per step (Whisper's input stride).
    static let timestampSeconds = 0.02
    static let framesPerTimestamp = 2
    /// The first timestamp may be at most 1 s into the window.
    static let maxInitialTimestamp = 50

    public let model: Whisper
    public let vocabulary: ByteLevelVocabulary
    public let tokens: Tokens
    /// Most tokens generated per window (the reference's max_length is the 448-position table; OpenAI uses 224).
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
            noTimestamps: noTimestamps, noSpeech: try id("<|nocaptions|>", "<|nospeech|>"),
            timestampBegin: noTimestamps + 1,
            suppress: (config["suppress_ids"] as? [Int]) ?? [], suppressAtBegin: (config["suppress_ids_begin"] as? [Int]) ?? [])
    }

    /// Greedy transcription of one window's encoder states [audioContext, d]; `timestamps` for long audio, with
    /// `contentFrames` the window's frames that hold audio.
    /// `stop` is asked before every decoding step; when it says yes, decoding ends with `EncoderError.stopped`.
    public func decode(_ encoderStates: Tensor, timestamps: Bool = false, contentFrames: Int = 3_000,
                       stop: () -> Bool = { false }) throws(EncoderError) -> Result {
        do {
            var result = try greedy(encoderStates, timestamps: timestamps, stop: stop)
            if timestamps { split(&result, contentFrames: contentFrames) }
            return result
        } catch let error as EncoderError { throw error } catch let error as TensorError {
            throw .tensor(error)
        } catch { throw .tensor(.invalidArgument(op: "whisper.decode", detail: "\(error)")) }
    }

    private func greedy(_ encoderStates: Tensor, timestamps: Bool, stop: () -> Bool) throws -> Result {
        var state = try State(model: model, encoderStates: encoderStates)
        let prompt = timestamps ? [tokens.startOfTranscript] : [tokens.startOfTranscript, tokens.noTimestamps]
        let promptLogits = try state.step(prompt, rows: [0, prompt.count - 1])
        var noSpeech = promptLogits[0]
        Self.softmax(&noSpeech)
        var logits = promptLogits[1]
        var out: [Int] = []
        var sumLogProb: Double = 0
        var looped = false, capped = true
        let room = min(maxTokens, model.config.textContext - prompt.count)
        for step in 0..<room {
            if stop() { throw EncoderError.stopped }
            for t in tokens.suppress where t < logits.count { logits[t] = -.infinity }
            if step == 0 { for t in tokens.suppressAtBegin where t < logits.count { logits[t] = -.infinity } }
            if timestamps { applyTimestampRules(&logits, generated: out) } else {
                for t in tokens.timestampBegin..<logits.count { logits[t] = -.infinity }
            }
            let best = logits.indices.max { logits[$0] < logits[$1] }!
            sumLogProb += Self.logSoftmax(logits, at: best)
            if best == tokens.endOfText { capped = false; break }
            out.append(best)
            if let period = Self.loopPeriod(out, repeats: loopRepeats) {
                out.removeLast(period * (loopRepeats - 1))
                looped = true
                capped = false
                break
            }
            if step + 1 < room { logits = try state.step([best], rows: [0])[0] }
        }
        return Result(tokens: out, text: vocabulary.decode(out.filter { $0 < tokens.endOfText }), noSpeechProbability: noSpeech[tokens.noSpeech],
                      averageLogProbability: Float(sumLogProb / Double(out.count + 1)), looped: looped, capped: capped)
    }

    /// OpenAI's `ApplyTimestampRules` on the logits of the next token, given the tokens generated so far.
    func applyTimestampRules(_ logits: inout [Float], generated: [Int]) {
        let begin = tokens.timestampBegin
        logits[tokens.noTimestamps] = -.infinity
        func mask(_ range: Range<Int>) { for t in range where t < logits.count { logits[t] = -.infinity } }
        if generated.isEmpty {
            mask(0..<begin)
            mask((begin + Self.maxInitialTimestamp + 1)..<logits.count)
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
            result.segments = [Segment(start: 0, end: end, text: text(ids[...]))]
            result.consumedFrames = contentFrames
            return
        }
        if singleEnding { cuts.append(ids.count) }
        var from = 0
        for cut in cuts {
            let slice = ids[from..<cut]
            if let first = slice.first(where: { $0 >= begin }), let last = slice.last(where: { $0 >= begin }) {
                result.segments.append(Segment(start: seconds(first), end: seconds(last), text: text(slice)))
            }
            from = cut
        }
        let lastPosition = ids[from - 1] - begin
        let consumed = singleEnding ? contentFrames : lastPosition * Self.framesPerTimestamp
        result.consumedFrames = consumed > 0 ? min(consumed, contentFrames) : contentFrames
    }

    /// The shortest period p ≤ 32 such that the last p·repeats tokens are one p-token pattern repeated.
    static func loopPeriod(_ t: [Int], repeats: Int) -> Int? {
        for p in 1...32 where p * repeats <= t.count {
            let tail = t.count - p * repeats
            var same = true
            for i in (tail + p)..<t.count where t[i] != t[i - p] { same = false; break }
            if same { return p }
        }
        return nil
    }

    static func softmax(_ x: inout [Float]) {
        let top = x.max() ?? 0
        var total: Double = 0
        for i in x.indices { let e = Foundation.exp(Double(x[i] - top)); x[i] = Float(e); total += e }
        for i in x.indices { x[i] = Float(Double(x[i]) / total) }
    }

    static func logSoftmax(_ x: [Float], at i: Int) -> Double {
        let top = x.max() ?? 0
        var total: Double = 0
        for v in x where v > -.infinity { total += Foundation.exp(Double(v - top)) }
        return Double(x[i] - top) - Foundation.log(total)
    }

    /// Per-request decoder state (llama2.c's RunState): the self-attention cache and cross-attention K/V.
    struct State {
        let model: Whisper
        let crossKV: [Tensor]       // per layer [audioContext, 2d]: K | V of the encoder states
        let selfK: [Tensor]         // per layer [textContext, d]
        let selfV: [Tensor]
        var length = 0

        init(model: Whisper, encoderStates: Tensor) throws {
            self.model = model
            let c = model.config
            crossKV = try model.decoderLayers.map { layer in
                let kv = Tensor(zeros: [c.audioContext, 2 * c.dModel])
                try Ops.linear(encoderStates, layer.crossAttention.keyValue, workers: model.threads, into: kv)
                return kv
            }
            selfK = model.decoderLayers.map { _ in Tensor(zeros: [c.textContext, c.dModel]) }
            selfV = model.decoderLayers.map { _ in Tensor(zeros: [c.textContext, c.dModel]) }
        }

        /// Runs `ids` at positions length..<length+n through the decoder; returns the logits of the given rows.
        mutating func step(_ ids: [Int], rows: [Int]) throws -> [[Float]] {
            let c = model.config, d = c.dModel, n = ids.count, w = model.threads
            let start = length
            guard start + n <= c.textContext else {
                throw EncoderError.invalidSequence(index: 0, length: start + n, maxLength: c.textContext)
            }
            // Token embedding + learned positions   [n, d]
            let x = Tensor(zeros: [n, d])
            try model.tokenEmbedding.lookup(ids.map { Int32($0) }, into: x)
            try Ops.add(x, model.decoderPositions.rows(start..<(start + n)), into: x)
            let h = Tensor(zeros: [n, d]), qkv = Tensor(zeros: [n, 3 * d]), a = Tensor(zeros: [n, d]), o = Tensor(zeros: [n, d])
            let f = Tensor(zeros: [n, model.decoderLayers[0].ffn.up.dOut])
            let scores = Tensor(zeros: [w * n * max(c.audioContext, start + n)])
            for (i, layer) in model.decoderLayers.enumerated() {
                // Causal self-attention over the cache: x += Out(Attn(LN(x)))
                try Ops.layerNorm(x, gamma: layer.selfAttention.normGamma, beta: layer.selfAttention.normBeta, eps: 1e-5, into: h)
                try Ops.linear(h, layer.selfAttention.qkv, into: qkv)
                for r in 0..<n {
                    (selfK[i].pointer + (start + r) * d).update(from: qkv.pointer + r * 3 * d + d, count: d)
                    (selfV[i].pointer + (start + r) * d).update(from: qkv.pointer + r * 3 * d + 2 * d, count: d)
                }
                try Ops.attention(query: qkv.columns(0..<d), keys: selfK[i].rows(0..<(start + n)),
                                  values: selfV[i].rows(0..<(start + n)), nHeads: c.nHeads, causalOffset: start,
                                  scores: scores, workers: w, into: a)
                try Ops.linear(a, layer.selfAttention.out, into: o)
                try Ops.add(x, o, into: x)
                // Cross-attention to the encoder states: x += Out(Attn(Q(LN(x)), K, V))
                try Ops.layerNorm(x, gamma: layer.crossAttention.normGamma, beta: layer.crossAttention.normBeta, eps: 1e-5, into: h)
                try Ops.linear(h, layer.crossAttention.query, into: a)
                try Ops.attention(query: a, keys: crossKV[i].columns(0..<d), values: crossKV[i].columns(d..<(2 * d)),
                                  nHeads: c.nHeads, causalOffset: nil, scores: scores, workers: w, into: o)
                try Ops.linear(o, layer.crossAttention.out, into: h)
                try Ops.add(x, h, into: x)
                // MLP: x += Down(GELU(Up(LN(x))))
                try Ops.layerNorm(x, gamma: layer.ffn.normGamma, beta: layer.ffn.normBeta, eps: 1e-5, into: h)
                try Ops.linear(h, layer.ffn.up, activation: .gelu, into: f)
                try Ops.linear(f, layer.ffn.down, into: o)
                try Ops.add(x, o, into: x)
            }
            length += n
            // Final LN of the wanted rows; logits = x · Eᵀ (output projection tied to the embedding)   [vocab]
            return try rows.map { r in
                let y = Tensor(zeros: [1, d])
                try Ops.layerNorm(x.rows(r..<(r + 1)), gamma: model.decoderNormGamma, beta: model.decoderNormBeta, eps: 1e-5, into: y)
                let logits = Tensor(zeros: [1, c.vocabSize])
                try model.tokenEmbedding.product(y, workers: w, into: logits)
                return logits.toArray()
            }
        }
    }
}
