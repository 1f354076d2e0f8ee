import Foundation
import Synchronization
import Tensor

/// BERT encoder — the whole BERT family of sentence-embedding models (all-MiniLM, bge, e5, gte, ...).
///
/// - Model: BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
///   Understanding", arXiv:1810.04805): a post-LayerNorm transformer encoder (Vaswani et al. 2017).
/// - Reference implementation matched: Hugging Face transformers `BertModel` (`modeling_bert.py`) in eval mode,
///   `last_hidden_state` output; golden tests in Tests/EncodersTests compare against it (models/reference*).
/// - Checkpoint: safetensors of a `BertModel` state dict, keys optionally under `bert.` (bge/e5/gte checkpoints
///   vary). With L = num_hidden_layers, d = hidden_size, dFF = intermediate_size:
///     embeddings.word_embeddings.weight [vocab, d], embeddings.position_embeddings.weight [maxPos, d],
///     embeddings.token_type_embeddings.weight [typeVocab, d], embeddings.LayerNorm.{weight,bias} [d],
///     encoder.layer.{i}.attention.self.{query,key,value}.{weight [d, d], bias [d]},
///     encoder.layer.{i}.attention.output.dense.{weight [d, d], bias [d]},
///     encoder.layer.{i}.attention.output.LayerNorm.{weight,bias} [d],
///     encoder.layer.{i}.intermediate.dense.{weight [dFF, d], bias [dFF]},
///     encoder.layer.{i}.output.dense.{weight [d, dFF], bias [d]}, encoder.layer.{i}.output.LayerNorm.{weight,bias} [d].
///   Known and ignored: pooler.dense.* (the NSP pooler head), embeddings.position_ids (an integer buffer).
///   Anything else is refused by name.
/// - Contract: input is token ids WITH the special tokens ([CLS] ... [SEP]) from the model's WordPiece tokenizer,
///   1...max_position_embeddings ids per sequence, token type 0 everywhere. Output is the final hidden state
///   [seqLen, d] of each sequence (padding removed), not pooled and not normalised — see `Pooling`.
///
/// Batching: sequences are packed back to back ([Σ seqLen, d], no padding rows) so the linear layers spend no FLOP
/// on padding; attention runs per sequence, which is exactly the padded computation with an attention mask.
/// Threads (default: all cores): a batch is split into `threads` groups of sequences (balanced by tokens) run
/// concurrently, each with its own scratch; a single sequence is split inside each op instead (GEMM column blocks,
/// attention heads). OpenBLAS runs single-threaded inside each worker (as everywhere in the process: `BLAS`), the
/// faster of the two here (bench/text/README.md; `rosetta-bench-text --blas-threading` runs the alternative).
public final class BERT: Sendable {
    public let config: BERTConfig
    /// Concurrent workers per forward pass.
    public let threads: Int
    let embeddings: Embeddings
    let layers: [Layer]
    private let scratchPool = Mutex<[Scratch]>([])

    struct Embeddings: Sendable {
        let word: Tensor            // embeddings.word_embeddings.weight [vocab, d]
        let position: Tensor        // embeddings.position_embeddings.weight [maxPos, d]
        let tokenType: Tensor       // embeddings.token_type_embeddings.weight [typeVocab, d]
        let normWeight: Tensor      // embeddings.LayerNorm.weight [d]
        let normBias: Tensor        // embeddings.LayerNorm.bias [d]
    }

    /// Linear layers are `LinearWeights`: the checkpoint's [dOut, dIn] weight packed for `PackedGEMM` at load.
    struct Layer: Sendable {
        // Q, K, V stacked at load so one product computes all three (wider N, fewer passes over h):
        let qkv: LinearWeights      // encoder.layer.{i}.attention.self.{query,key,value}.weight [d, d] each -> [3d, d],
                                    //   .bias [d] each -> [3d]
        let attnOut: LinearWeights  // encoder.layer.{i}.attention.output.dense.{weight [d, d], bias [d]}
        let attnNormWeight: Tensor  // encoder.layer.{i}.attention.output.LayerNorm.weight [d]
        let attnNormBias: Tensor    // encoder.layer.{i}.attention.output.LayerNorm.bias [d]
        let ffnIn: LinearWeights    // encoder.layer.{i}.intermediate.dense.{weight [dFF, d], bias [dFF]}
        let ffnOut: LinearWeights   // encoder.layer.{i}.output.dense.{weight [d, dFF], bias [d]}
        let ffnNormWeight: Tensor   // encoder.layer.{i}.output.LayerNorm.weight [d]
        let ffnNormBias: Tensor     // encoder.layer.{i}.output.LayerNorm.bias [d]
    }

    /// Per-forward activations (llama2.c's RunState), sized for `tokens` packed rows and sequences up to `maxLen`.
    /// Reused across layers and, through the model's pool, across requests.
    public final class Scratch: @unchecked Sendable {  // owned by one forward at a time
        let tokens: Int, maxLen: Int, workers: Int
        let hidden: Tensor          // [tokens, d] residual stream
        let qkv: Tensor             // [tokens, 3d]
        let context: Tensor         // [tokens, d] attention output before the projection
        let projected: Tensor       // [tokens, d] sublayer output before residual + norm
        let ffn: Tensor             // [tokens, dFF]
        let scores: Tensor          // [workers, maxLen²] one head's attention matrix per worker

        public init(config: BERTConfig, tokens: Int, maxLen: Int, workers: Int = 1) {
            let (d, dFF) = (config.hiddenSize, config.intermediateSize)
            self.tokens = tokens
            self.maxLen = maxLen
            self.workers = max(1, workers)
            hidden = Tensor(zeros: [tokens, d])
            qkv = Tensor(zeros: [tokens, 3 * d])
            context = Tensor(zeros: [tokens, d])
            projected = Tensor(zeros: [tokens, d])
            ffn = Tensor(zeros: [tokens, dFF])
            scores = Tensor(zeros: [self.workers * maxLen * maxLen])
        }
    }

    public init(config: BERTConfig, weights file: SafeTensors,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                precision: Precision = .float32) throws(EncoderError) {
        try config.validate(file: file.path)
        self.config = config
        self.threads = max(1, threads)
        let (d, dFF) = (config.hiddenSize, config.intermediateSize)
        let root = WeightLoader(file: file, precision: precision)
        let vb = root.contains("bert.embeddings.word_embeddings.weight") ? root.pp("bert") : root

        let emb = vb.pp("embeddings")
        embeddings = Embeddings(
            word: try emb.pp("word_embeddings").tensor("weight", shape: [config.vocabSize, d]),
            position: try emb.pp("position_embeddings").tensor("weight", shape: [config.maxPositionEmbeddings, d]),
            tokenType: try emb.pp("token_type_embeddings").tensor("weight", shape: [config.typeVocabSize, d]),
            normWeight: try emb.pp("LayerNorm").tensor("weight", shape: [d]),
            normBias: try emb.pp("LayerNorm").tensor("bias", shape: [d]))
        emb.ignore("position_ids")

        var layers: [Layer] = []
        for i in 0..<config.numHiddenLayers {
            let lb = vb.pp("encoder").pp("layer").pp(i)
            let selfAttn = lb.pp("attention").pp("self"), attnOut = lb.pp("attention").pp("output")
            let qkv = ["query", "key", "value"].map { selfAttn.pp($0) }
            var qkvWeights: [Tensor] = [], qkvBiases: [Tensor] = []
            for w in qkv {
                qkvWeights.append(try w.tensor("weight", shape: [d, d]))
                qkvBiases.append(try w.tensor("bias", shape: [d]))
            }
            let attnDense = attnOut.pp("dense"), ffnInDense = lb.pp("intermediate").pp("dense")
            let ffnOutDense = lb.pp("output").pp("dense")
            layers.append(Layer(
                qkv: try root.linear(weight: try BERT.stack(qkvWeights), bias: try BERT.stack(qkvBiases)),
                attnOut: try root.linear(weight: try attnDense.tensor("weight", shape: [d, d]),
                                         bias: try attnDense.tensor("bias", shape: [d])),
                attnNormWeight: try attnOut.pp("LayerNorm").tensor("weight", shape: [d]),
                attnNormBias: try attnOut.pp("LayerNorm").tensor("bias", shape: [d]),
                ffnIn: try root.linear(weight: try ffnInDense.tensor("weight", shape: [dFF, d]),
                                       bias: try ffnInDense.tensor("bias", shape: [dFF])),
                ffnOut: try root.linear(weight: try ffnOutDense.tensor("weight", shape: [d, dFF]),
                                        bias: try ffnOutDense.tensor("bias", shape: [d])),
                ffnNormWeight: try lb.pp("output").pp("LayerNorm").tensor("weight", shape: [d]),
                ffnNormBias: try lb.pp("output").pp("LayerNorm").tensor("bias", shape: [d])))
        }
        self.layers = layers
        vb.pp("pooler").pp("dense").ignore("weight")
        vb.pp("pooler").pp("dense").ignore("bias")
        try root.finish()
    }

    /// Q, K, V parameters stacked along the output dimension (rows for weights, elements for biases).
    private static func stack(_ parts: [Tensor]) throws(EncoderError) -> Tensor {
        do {
            return parts[0].rank == 1 ? try Tensor.concatenating(parts) : try Tensor.concatenatingRows(parts)
        } catch {
            throw .tensor(error)
        }
    }

    /// Final hidden states [seqLen, d] of each sequence (token ids with special tokens), padding removed.
    public func forward(batch: [[Int32]]) throws(EncoderError) -> [Tensor] {
        try validate(batch)
        let groups = threads > 1 && batch.count > 1 ? balancedGroups(batch.map(\.count), parts: threads) : [Array(batch.indices)]
        if groups.count == 1 {
            return try forwardGroup(batch, workers: threads)
        }
        // One group of whole sequences per worker, each with its own scratch and single-threaded ops.
        let outcomes = Mutex<[Int: Result<[Tensor], EncoderError>]>([:])
        Parallel.forEach(groups.count) { g in
            let outcome = Result { () throws(EncoderError) in try self.forwardGroup(groups[g].map { batch[$0] }, workers: 1) }
            outcomes.withLock { $0[g] = outcome }
        }
        var out = [Tensor?](repeating: nil, count: batch.count)
        for (g, group) in groups.enumerated() {
            let tensors = try outcomes.withLock { $0[g]! }.get()
            for (i, t) in zip(group, tensors) { out[i] = t }
        }
        return out.map { $0! }
    }

    private func forwardGroup(_ batch: [[Int32]], workers: Int) throws(EncoderError) -> [Tensor] {
        let lengths = batch.map(\.count)
        let scratch = takeScratch(tokens: lengths.reduce(0, +), maxLen: lengths.max() ?? 0, workers: workers)
        defer { returnScratch(scratch) }
        return try forward(batch: batch, scratch: scratch)
    }

    /// Splits sequence indices into at most `parts` groups of similar cost (longest first to the lightest group).
    private func balancedGroups(_ lengths: [Int], parts: Int) -> [[Int]] {
        var groups = [[Int]](repeating: [], count: min(parts, lengths.count))
        var load = [Int](repeating: 0, count: groups.count)
        for i in lengths.indices.sorted(by: { lengths[$0] > lengths[$1] }) {
            let g = load.indices.min { load[$0] < load[$1] }!
            groups[g].append(i)
            load[g] += lengths[i] * (config.hiddenSize + lengths[i])  // linear layers ∝ L·d, attention ∝ L²
        }
        return groups.filter { !$0.isEmpty }
    }

    /// `forward(batch:)` with caller-owned scratch (must hold at least Σ seqLen tokens and the longest sequence).
    public func forward(batch: [[Int32]], scratch s: Scratch) throws(EncoderError) -> [Tensor] {
        try validate(batch)
        let lengths = batch.map(\.count)
        let tokens = lengths.reduce(0, +)
        guard tokens <= s.tokens, (lengths.max() ?? 0) <= s.maxLen else {
            throw .invalidSequence(index: 0, length: tokens, maxLength: s.tokens)
        }
        if tokens == 0 { return [] }
        let segments = Ops.packedSegments(lengths: lengths)
        let d = config.hiddenSize, eps = config.layerNormEps, w = s.workers
        do {
            // Views of the scratch sized to this batch.
            let h = try s.hidden.rows(0..<tokens), qkv = try s.qkv.rows(0..<tokens)
            let ctx = try s.context.rows(0..<tokens), proj = try s.projected.rows(0..<tokens)
            let ffn = try s.ffn.rows(0..<tokens)
            let (q, k, v) = (try qkv.columns(0..<d), try qkv.columns(d..<2 * d), try qkv.columns(2 * d..<3 * d))

            // Embeddings: h = LayerNorm(word[id] + position[p] + tokenType[0])        h [tokens, d]
            for (ids, segment) in zip(batch, segments) {
                let rows = try h.rows(segment)
                try Ops.embeddingLookup(embeddings.word, ids: ids, into: rows)
                try Ops.add(rows, try embeddings.position.rows(0..<ids.count), into: rows)
                try Ops.addBias(rows, try embeddings.tokenType.rows(0..<1).reshaped([d]), into: rows)
            }
            try Ops.layerNorm(h, gamma: embeddings.normWeight, beta: embeddings.normBias, eps: eps, into: h)

            for layer in layers {
                // Self-attention: Q, K, V in one projection                         qkv [tokens, 3d]
                try Ops.linear(h, layer.qkv, workers: w, into: qkv)
                // softmax(QKᵀ/√headDim)·V per sequence and head (the padding mask)   ctx [tokens, d]
                try Ops.attention(q: q, k: k, v: v, nHeads: config.numAttentionHeads, segments: segments,
                                  scores: s.scores, workers: w, into: ctx)
                // Output projection                                                   proj [tokens, d]
                try Ops.linear(ctx, layer.attnOut, workers: w, into: proj)
                // Residual + post-LayerNorm                                           h [tokens, d]
                try Ops.layerNorm(proj, residual: h, gamma: layer.attnNormWeight, beta: layer.attnNormBias,
                                  eps: eps, into: h)
                // Feed-forward: GELU(h·W1ᵀ + b1)                                      ffn [tokens, dFF]
                try Ops.linear(h, layer.ffnIn, activation: .gelu, workers: w, into: ffn)
                // ·W2ᵀ + b2                                                           proj [tokens, d]
                try Ops.linear(ffn, layer.ffnOut, workers: w, into: proj)
                // Residual + post-LayerNorm                                           h [tokens, d]
                try Ops.layerNorm(proj, residual: h, gamma: layer.ffnNormWeight, beta: layer.ffnNormBias,
                                  eps: eps, into: h)
            }

            // Copy out of the scratch: one tensor, a view per sequence.
            let out = h.copy()
            return try segments.map { segment throws(TensorError) in try out.rows(segment) }
        } catch {
            throw .tensor(error)
        }
    }

    private func validate(_ batch: [[Int32]]) throws(EncoderError) {
        for (index, ids) in batch.enumerated() {
            guard !ids.isEmpty, ids.count <= config.maxPositionEmbeddings else {
                throw .invalidSequence(index: index, length: ids.count, maxLength: config.maxPositionEmbeddings)
            }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw .tokenOutOfRange(index: index, token: bad, vocabSize: config.vocabSize)
            }
        }
    }

    /// A pooled scratch large enough for the batch (or a new one); scratch objects are never shared concurrently.
    private func takeScratch(tokens: Int, maxLen: Int, workers: Int) -> Scratch {
        let reused = scratchPool.withLock { pool -> Scratch? in
            guard let i = pool.lastIndex(where: { $0.tokens >= tokens && $0.maxLen >= maxLen && $0.workers == workers })
            else { return nil }
            return pool.remove(at: i)
        }
        return reused ?? Scratch(config: config, tokens: tokens, maxLen: maxLen, workers: workers)
    }

    private func returnScratch(_ scratch: Scratch) {
        // Keep a few, largest first (so a burst of small requests does not evict the big buffers);
        // `takeScratch` picks the smallest that fits.
        scratchPool.withLock { pool in
            pool.append(scratch)
            pool.sort { $0.tokens > $1.tokens }
            if pool.count > 8 { pool.removeLast() }
        }
    }
}
