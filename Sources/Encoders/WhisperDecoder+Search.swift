import Foundation

extension WhisperDecoder {
    /// One decoded sequence: ids without the prompt and end-of-text, and its summed token log-probability
    /// (end-of-text included when it ended).
    struct Hypothesis {
        var tokens: [Int] = []
        var logProbability: Float = 0
        /// Ended with end-of-text (else: cut by the token cap or the repetition stop).
        var ended = false
        var looped = false

        /// CTranslate2's finished-hypothesis score: log-probability / length^lengthPenalty.
        func score(lengthPenalty: Double) -> Float {
            logProbability / Float(pow(Double(tokens.count), lengthPenalty))
        }
    }

    /// CTranslate2's `BeamSearch::search` for one batch entry: per step the best 2·beams (hypothesis, token)
    /// continuations by cumulative log-probability; of the first `beams`, one that ends (end-of-text, or any at the
    /// last step) is finished and its place goes to the next candidate that does not end. Stops when
    /// round(beams·patience) hypotheses have finished (with lengthPenalty 0: when the best one has and enough
    /// have), and returns the finished hypotheses best score first (CTranslate2's `num_hypotheses`; the first is
    /// what it returns with one).
    func beamSearch(_ state: inout State, first: [Float], room: Int, options: Options,
                    stop: () -> Bool) throws -> [Hypothesis] {
        let beams = max(1, options.beamSize)
        let enough = max(1, Int((Double(beams) * options.patience).rounded()))
        var alive = [Hypothesis()]
        var logits = [first]
        var finished: [Hypothesis] = []
        for step in 0..<room {
            if stop() { throw EncoderError.stopped }
            var top = Candidates(capacity: 2 * beams)
            for (b, hypothesis) in alive.enumerated() {
                let logProbabilities = processed(logits[b], generated: hypothesis.tokens, step: step, options: options)
                for (token, p) in logProbabilities.enumerated() where p > -.infinity {
                    top.insert(score: hypothesis.logProbability + p, beam: b, token: token)
                }
            }
            let candidates = top.sorted
            let last = step + 1 == room
            var next: [Hypothesis] = [], sources: [Int] = []
            var topFinished = false
            var secondary = beams
            for k in 0..<min(beams, candidates.count) {
                var chosen = candidates[k]
                if chosen.token == tokens.endOfText || last {
                    var done = alive[chosen.beam]
                    done.logProbability = chosen.score
                    done.ended = chosen.token == tokens.endOfText
                    if !done.ended { done.tokens.append(chosen.token) }
                    finished.append(done)
                    if k == 0 { topFinished = true }
                    if let j = (secondary..<candidates.count).first(where: { candidates[$0].token != tokens.endOfText }) {
                        chosen = candidates[j]
                        secondary = j + 1
                    }
                }
                var continued = alive[chosen.beam]
                continued.tokens.append(chosen.token)
                continued.logProbability = chosen.score
                next.append(continued)
                sources.append(chosen.beam)
            }
            let done = options.lengthPenalty == 0 ? topFinished && !finished.isEmpty : finished.count >= enough
            if last || done || next.isEmpty { break }
            if let cut = loopStart(next[0].tokens) {
                var looped = next[0]
                looped.tokens.removeSubrange(cut...)
                looped.looped = true
                return [looped]
            }
            state.reorder(sources)
            logits = try state.step(next.map { $0.tokens[$0.tokens.count - 1] }, rows: Array(next.indices))
            alive = next
        }
        guard !finished.isEmpty else { return [alive[0]] }
        return finished.enumerated().sorted {
            // Best score first; equal scores in the order they finished (the first maximum wins, as before).
            let (a, b) = ($0.element.score(lengthPenalty: options.lengthPenalty), $1.element.score(lengthPenalty: options.lengthPenalty))
            return a != b ? a > b : $0.offset < $1.offset
        }.map(\.element)
    }

    /// `bestOf` independent samples from softmax(logits / temperature) (CTranslate2's `GreedySearch` with a
    /// random sampler over the whole vocabulary, one per hypothesis); the best by score wins.
    func sample(_ state: inout State, first: [Float], room: Int, options: Options,
                stop: () -> Bool) throws -> Hypothesis {
        var generator = SplitMix64(seed: options.seed)
        let count = max(1, options.bestOf)
        var alive = [Hypothesis](repeating: Hypothesis(), count: count)
        var logits = [[Float]](repeating: first, count: count)
        state.reorder([Int](repeating: 0, count: count))
        var finished: [Hypothesis] = []
        for step in 0..<room {
            if stop() { throw EncoderError.stopped }
            var next: [Hypothesis] = [], sources: [Int] = []
            for (i, var hypothesis) in alive.enumerated() {
                let logProbabilities = processed(logits[i], generated: hypothesis.tokens, step: step, options: options)
                let token = Self.draw(logProbabilities, temperature: options.temperature, using: &generator)
                hypothesis.logProbability += logProbabilities[token]
                if token == tokens.endOfText {
                    hypothesis.ended = true
                    finished.append(hypothesis)
                    continue
                }
                hypothesis.tokens.append(token)
                if let cut = loopStart(hypothesis.tokens) {
                    hypothesis.tokens.removeSubrange(cut...)
                    hypothesis.looped = true
                    finished.append(hypothesis)
                } else if step + 1 == room {
                    finished.append(hypothesis)
                } else {
                    next.append(hypothesis)
                    sources.append(i)
                }
            }
            if next.isEmpty { break }
            state.reorder(sources)
            logits = try state.step(next.map { $0.tokens[$0.tokens.count - 1] }, rows: Array(next.indices))
            alive = next
        }
        return finished.max { $0.score(lengthPenalty: options.lengthPenalty) < $1.score(lengthPenalty: options.lengthPenalty) }
            ?? Hypothesis()
    }

    /// The log-probabilities of the next token of a hypothesis after CTranslate2's logits processors
    /// (suppressed tokens; blank and end-of-text at the first step; the timestamp rules or no timestamps).
    func processed(_ logits: [Float], generated: [Int], step: Int, options: Options) -> [Float] {
        var logits = logits
        for t in tokens.suppress where t < logits.count { logits[t] = -.infinity }
        if step == 0 { for t in tokens.suppressAtBegin where t < logits.count { logits[t] = -.infinity } }
        if options.timestamps {
            applyTimestampRules(&logits, generated: generated, maxInitialTimestamp: options.maxInitialTimestamp)
        } else {
            for t in tokens.timestampBegin..<logits.count { logits[t] = -.infinity }
        }
        let top = logits.max() ?? 0
        var total: Double = 0
        for v in logits where v > -.infinity { total += Foundation.exp(Double(v - top)) }
        let shift = top + Float(Foundation.log(total))
        return logits.map { $0 - shift }
    }

    /// Where the repeats begin when the text tokens of `generated` end in one 1...32-token pattern `loopRepeats`
    /// times in a row: the index in `generated` after the first occurrence (the shortest such period); else nil.
    func loopStart(_ generated: [Int]) -> Int? {
        let textPositions = generated.indices.filter { generated[$0] < tokens.endOfText }
        let text = textPositions.map { generated[$0] }
        for p in 1...32 where p * loopRepeats <= text.count {
            let tail = text.count - p * loopRepeats
            var same = true
            for i in (tail + p)..<text.count where text[i] != text[i - p] { same = false; break }
            if same { return textPositions[tail + p] }
        }
        return nil
    }

    /// A token drawn with probability ∝ exp(logProbability / temperature).
    static func draw(_ logProbabilities: [Float], temperature: Double, using generator: inout SplitMix64) -> Int {
        let top = Double(logProbabilities.max() ?? 0)
        var weights = [Double](repeating: 0, count: logProbabilities.count)
        var total = 0.0
        for (i, p) in logProbabilities.enumerated() where p > -.infinity {
            total += Foundation.exp((Double(p) - top) / temperature)
            weights[i] = total
        }
        guard total > 0, total.isFinite else { return logProbabilities.indices.max { logProbabilities[$0] < logProbabilities[$1] } ?? 0 }
        let u = Double.random(in: 0..<total, using: &generator)
        var low = 0, high = weights.count - 1
        while low < high {
            let mid = (low + high) / 2
            if weights[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The best `capacity` (score, beam, token) triples seen, best first.
    struct Candidates {
        struct Candidate { var score: Float; var beam: Int; var token: Int }
        let capacity: Int
        private(set) var sorted: [Candidate] = []

        init(capacity: Int) { self.capacity = capacity }

        mutating func insert(score: Float, beam: Int, token: Int) {
            if sorted.count == capacity, let worst = sorted.last, score <= worst.score { return }
            let at = sorted.firstIndex { $0.score < score } ?? sorted.count
            sorted.insert(Candidate(score: score, beam: beam, token: token), at: at)
            if sorted.count > capacity { sorted.removeLast() }
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, so that sampled decodes are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
