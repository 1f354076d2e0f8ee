import Foundation
import Tensor

extension WhisperDecoder {
    /// Per-request decoder state (llama2.c's RunState) for a group of hypotheses decoded in lockstep (beams, or
    /// samples): the cross-attention K/V of the encoder states, shared by all, and one self-attention cache per
    /// hypothesis. Every hypothesis is at the same position (`length`).
    struct State {
        let model: Whisper
        let crossKV: [Tensor]           // per layer [audioContext, 2d]: K | V of the encoder states
        var caches: [Cache]             // per hypothesis
        private var spare: [Cache] = [] // reused by `reorder`
        var length = 0

        /// One hypothesis's self-attention keys and values, per layer [textContext, d].
        final class Cache {
            let keys: [Tensor]
            let values: [Tensor]

            init(layers: Int, textContext: Int, d: Int) {
                keys = (0..<layers).map { _ in Tensor(zeros: [textContext, d]) }
                values = (0..<layers).map { _ in Tensor(zeros: [textContext, d]) }
            }

            /// Copies the first `length` positions of `other` into this cache.
            func copy(from other: Cache, length: Int, d: Int) {
                for (target, source) in zip(keys + values, other.keys + other.values) {
                    target.pointer.update(from: source.pointer, count: length * d)
                }
            }
        }

        init(model: Whisper, encoderStates: Tensor) throws {
            self.model = model
            let c = model.config
            crossKV = try model.decoderLayers.map { layer in
                let kv = Tensor(zeros: [c.audioContext, 2 * c.dModel])
                try Ops.linear(encoderStates, layer.crossAttention.keyValue, workers: model.threads, into: kv)
                return kv
            }
            caches = [Cache(layers: c.nDecoderLayers, textContext: c.textContext, d: c.dModel)]
        }

        /// Hypothesis k continues hypothesis `sources[k]`: caches are copied (or kept in place), and the group may
        /// grow (the first step's single hypothesis becomes the beams) or shrink (finished samples).
        mutating func reorder(_ sources: [Int]) {
            if sources == Array(caches.indices) { return }
            let c = model.config
            var next = [Cache?](repeating: nil, count: sources.count)
            var kept = Set<Int>()
            for (k, source) in sources.enumerated() where k < caches.count && source == k {
                next[k] = caches[k]
                kept.insert(k)
            }
            for (k, source) in sources.enumerated() where next[k] == nil {
                let target = spare.popLast() ?? Cache(layers: c.nDecoderLayers, textContext: c.textContext, d: c.dModel)
                target.copy(from: caches[source], length: length, d: c.dModel)
                next[k] = target
            }
            spare += caches.indices.filter { !kept.contains($0) }.map { caches[$0] }
            caches = next.compactMap { $0 }
        }

        /// Feeds `n` tokens to every hypothesis (ids: hypothesis-major, caches.count · n) at positions
        /// length..<length+n, and returns the decoder output of the rows asked for (index into ids), final
        /// norm applied, as logits [rows.count][vocab].
        mutating func step(_ ids: [Int], rows: [Int]) throws -> [[Float]] {
            let c = model.config, d = c.dModel, w = model.threads
            let r = caches.count, n = ids.count / max(1, r), start = length, total = ids.count
            guard start + n <= c.textContext else {
                throw EncoderError.invalidSequence(index: 0, length: start + n, maxLength: c.textContext)
            }
            // Token embedding + learned positions   [r·n, d]
            let x = Tensor(zeros: [total, d])
            try model.tokenEmbedding.lookup(ids.map { Int32($0) }, into: x)
            let positions = try model.decoderPositions.rows(start..<(start + n))
            for h in 0..<r { try Ops.add(x.rows(h * n..<(h + 1) * n), positions, into: x.rows(h * n..<(h + 1) * n)) }
            let hidden = Tensor(zeros: [total, d]), qkv = Tensor(zeros: [total, 3 * d])
            let a = Tensor(zeros: [total, d]), o = Tensor(zeros: [total, d])
            let f = Tensor(zeros: [total, model.decoderLayers[0].ffn.up.dOut])
            let scores = Tensor(zeros: [w * total * max(c.audioContext, start + n)])
            for (i, layer) in model.decoderLayers.enumerated() {
                // Causal self-attention, each hypothesis over its own cache: x += Out(Attn(LN(x)))
                try Ops.layerNorm(x, gamma: layer.selfAttention.normGamma, beta: layer.selfAttention.normBeta, eps: 1e-5, into: hidden)
                try Ops.linear(hidden, layer.selfAttention.qkv, into: qkv)
                for (h, cache) in caches.enumerated() {
                    for t in 0..<n {
                        let row = qkv.pointer + (h * n + t) * 3 * d
                        (cache.keys[i].pointer + (start + t) * d).update(from: row + d, count: d)
                        (cache.values[i].pointer + (start + t) * d).update(from: row + 2 * d, count: d)
                    }
                    let mine = h * n..<(h + 1) * n
                    try Ops.attention(query: qkv.rows(mine).columns(0..<d), keys: cache.keys[i].rows(0..<(start + n)),
                                      values: cache.values[i].rows(0..<(start + n)), nHeads: c.nHeads, causalOffset: start,
                                      scores: scores, workers: w, into: a.rows(mine))
                }
                try Ops.linear(a, layer.selfAttention.out, into: o)
                try Ops.add(x, o, into: x)
                // Cross-attention to the encoder states, all rows at once: x += Out(Attn(Q(LN(x)), K, V))
                try Ops.layerNorm(x, gamma: layer.crossAttention.normGamma, beta: layer.crossAttention.normBeta, eps: 1e-5, into: hidden)
                try Ops.linear(hidden, layer.crossAttention.query, into: a)
                try Ops.attention(query: a, keys: crossKV[i].columns(0..<d), values: crossKV[i].columns(d..<(2 * d)),
                                  nHeads: c.nHeads, causalOffset: nil, scores: scores, workers: w, into: o)
                try Ops.linear(o, layer.crossAttention.out, into: hidden)
                try Ops.add(x, hidden, into: x)
                // MLP: x += Down(GELU(Up(LN(x))))
                try Ops.layerNorm(x, gamma: layer.ffn.normGamma, beta: layer.ffn.normBeta, eps: 1e-5, into: hidden)
                try Ops.linear(hidden, layer.ffn.up, activation: .gelu, into: f)
                try Ops.linear(f, layer.ffn.down, into: o)
                try Ops.add(x, o, into: x)
            }
            length += n
            // Final LN of the wanted rows; logits = y · Eᵀ (output projection tied to the embedding)   [rows, vocab]
            let y = Tensor(zeros: [rows.count, d])
            for (k, row) in rows.enumerated() {
                try Ops.layerNorm(x.rows(row..<(row + 1)), gamma: model.decoderNormGamma, beta: model.decoderNormBeta,
                                  eps: 1e-5, into: y.rows(k..<(k + 1)))
            }
            let logits = Tensor(zeros: [rows.count, c.vocabSize])
            try model.tokenEmbedding.product(y, workers: w, into: logits)
            let flat = logits.toArray()
            return rows.indices.map { Array(flat[($0 * c.vocabSize)..<(($0 + 1) * c.vocabSize)]) }
        }
    }
}
