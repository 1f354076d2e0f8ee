import Foundation
import Tensor

/// SigLIP: a ViT image tower with attention pooling and a bidirectional text transformer trained into one space
/// with a sigmoid loss, so that a cosine maps to a match probability σ(cos·exp(logit_scale) + logit_bias).
///
/// - Model: SigLIP (Zhai et al. 2023, "Sigmoid Loss for Language Image Pre-Training", arXiv:2303.15343); vision
///   tower ViT (Dosovitskiy et al. 2020) without a class token, pooled by a multihead attention pooling (MAP) head
///   (a learned probe attending over the patch tokens, then LayerNorm + MLP with a residual).
/// - Reference implementation matched: Hugging Face transformers `SiglipModel` (`modeling_siglip.py`), eval mode:
///   `get_text_features` (the head over the last position's final-LayerNorm state) and `get_image_features` (the
///   MAP head's output); golden tests in Tests/VisionTests/SigLIPGoldenTests.swift (models/reference_siglip.py:
///   google/siglip-base-patch16-224's configuration, seeded weights; cosine ≥ 0.9999).
/// - Checkpoint: a Hugging Face SiglipModel folder (config.json model_type "siglip", model.safetensors). Per tower
///   T ∈ {text_model, vision_model}, layers i, width d: T.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.{weight
///   [d, d], bias [d]}, T.encoder.layers.{i}.layer_norm{1,2}.{weight,bias} [d], T.encoder.layers.{i}.mlp.fc1.{weight
///   [dFF, d], bias}, T.encoder.layers.{i}.mlp.fc2.{weight [d, dFF], bias [d]};
///   text_model.embeddings.token_embedding.weight [vocab, d], text_model.embeddings.position_embedding.weight [64, d],
///   text_model.final_layer_norm.{weight,bias}, text_model.head.{weight [p, d], bias [p]};
///   vision_model.embeddings.patch_embedding.{weight [d, 3, P, P], bias [d]},
///   vision_model.embeddings.position_embedding.weight [(S/P)², d], vision_model.post_layernorm.{weight,bias},
///   vision_model.head.probe [1, 1, d], vision_model.head.attention.in_proj_{weight [3d, d], bias [3d]},
///   vision_model.head.attention.out_proj.{weight [d, d], bias [d]}, vision_model.head.layernorm.{weight,bias},
///   vision_model.head.mlp.fc{1,2}.{weight,bias}; logit_scale [1], logit_bias [1].
///   Known and ignored: *.position_ids. Anything else is refused by name.
/// - Contract: text = token ids from the checkpoint's SentencePiece tokenizer (`UnigramTokenizer`: SigLIP's
///   canonicalised text, "</s>" appended, padded with "</s>" to 64): every position attends to every other and the
///   last position (a pad or "</s>") is pooled, as SigLIP was trained. Image = [S, S, 3] channels-last, resized
///   (bicubic, both sides to S, no crop), (x/255 − 0.5)/0.5. Outputs are unnormalised embeddings [p] (p = the
///   vision width = the text head's size); `encodeImages` also returns the post-LayerNorm patch tokens
///   ([(S/P)², d]) for instruction pooling.
public final class SigLIP: Sendable {
    public struct Config: Sendable, Equatable {
        public typealias Tower = CLIP.Config.Tower
        public var text: Tower
        public var vision: Tower
        public var vocabSize: Int, contextLength: Int, imageSize: Int, patchSize: Int, projectionSize: Int

        /// Reads a Hugging Face SiglipModel config.json; missing fields take transformers' defaults (those of
        /// google/siglip-base-patch16-224).
        public static func load(from url: URL) throws(EncoderError) -> Config {
            let (_, t, v) = try CLIP.Config.towers(url, activation: "gelu_pytorch_tanh")
            if v["vision_use_head"] as? Bool == false {
                throw .invalidConfig(file: url.path, detail: "vision_config.vision_use_head false: the image embedding is the MAP head's output")
            }
            let base = Tower(width: 768, layers: 12, heads: 12, ffn: 3072, eps: 1e-6)
            let (text, vision) = (Tower(t, defaults: base), Tower(v, defaults: base))
            let config = Config(text: text, vision: vision, vocabSize: t["vocab_size"] as? Int ?? 32000,
                                contextLength: t["max_position_embeddings"] as? Int ?? 64,
                                imageSize: v["image_size"] as? Int ?? 224, patchSize: v["patch_size"] as? Int ?? 16,
                                projectionSize: t["projection_size"] as? Int ?? text.width)
            guard config.projectionSize == vision.width else {
                throw .invalidConfig(file: url.path, detail: "text head size \(config.projectionSize) != vision width \(vision.width): no joint space")
            }
            guard config.patchSize > 0, config.imageSize % config.patchSize == 0,
                  text.width % text.heads == 0, vision.width % vision.heads == 0 else {
                throw .invalidConfig(file: url.path, detail: "image_size \(config.imageSize) / patch_size \(config.patchSize) or widths / heads do not divide")
            }
            return config
        }
    }

    /// One pre-LN transformer layer (both towers; the same layout as CLIP's).
    typealias Layer = CLIP.Layer

    public let config: Config
    let tokenEmbedding: Tensor          // text_model.embeddings.token_embedding.weight [vocab, d]
    let textPosition: Tensor            // text_model.embeddings.position_embedding.weight [64, d]
    let textLayers: [Layer]             // text_model.encoder.layers.{i}
    let finalNorm: (Tensor, Tensor)     // text_model.final_layer_norm.{weight,bias}
    let textHead: LinearWeights         // text_model.head.{weight [p, d], bias [p]}
    let patchEmbedding: ConvWeights     // vision_model.embeddings.patch_embedding.{weight [d, 3, P, P], bias [d]}
    let visionPosition: Tensor          // vision_model.embeddings.position_embedding.weight [N, d]
    let visionLayers: [Layer]           // vision_model.encoder.layers.{i}
    let postNorm: (Tensor, Tensor)      // vision_model.post_layernorm.{weight,bias}
    let probe: Tensor                   // vision_model.head.probe [1, 1, d]
    let poolQ: LinearWeights            // vision_model.head.attention.in_proj_{weight,bias} rows 0..<d
    let poolK: LinearWeights            // … rows d..<2d
    let poolV: LinearWeights            // … rows 2d..<3d
    let poolOut: LinearWeights          // vision_model.head.attention.out_proj.{weight [d, d], bias [d]}
    let poolNorm: (Tensor, Tensor)      // vision_model.head.layernorm.{weight,bias}
    let poolFC1: LinearWeights          // vision_model.head.mlp.fc1.{weight [dFF, d], bias}
    let poolFC2: LinearWeights          // vision_model.head.mlp.fc2.{weight [d, dFF], bias}
    public let logitScale: Float        // logit_scale [1]
    public let logitBias: Float         // logit_bias [1]

    public init(config: Config, weights file: SafeTensors, precision: Precision = .float32) throws(EncoderError) {
        self.config = config
        let root = WeightLoader(file: file, precision: precision)
        let (tc, vc) = (config.text, config.vision)
        let text = root.pp("text_model"), vision = root.pp("vision_model")
        tokenEmbedding = try text.pp("embeddings").pp("token_embedding").tensor("weight", shape: [config.vocabSize, tc.width])
        textPosition = try text.pp("embeddings").pp("position_embedding").tensor("weight", shape: [config.contextLength, tc.width])
        text.pp("embeddings").ignore("position_ids")
        textLayers = try Layer.stack(text, tc)
        finalNorm = try text.pp("final_layer_norm").layerNorm(tc.width)
        textHead = try text.pp("head").linear(config.projectionSize, tc.width)

        let grid = config.imageSize / config.patchSize
        let patch = vision.pp("embeddings").pp("patch_embedding")
        patchEmbedding = try root.convolution(weight: try patch.tensor("weight", shape: [vc.width, 3, config.patchSize, config.patchSize]),
                                              bias: try patch.tensor("bias", shape: [vc.width]))
        visionPosition = try vision.pp("embeddings").pp("position_embedding").tensor("weight", shape: [grid * grid, vc.width])
        vision.pp("embeddings").ignore("position_ids")
        visionLayers = try Layer.stack(vision, vc)
        postNorm = try vision.pp("post_layernorm").layerNorm(vc.width)
        let head = vision.pp("head"), d = vc.width
        probe = try head.tensor("probe", shape: [1, 1, d])
        let inWeight = try head.pp("attention").tensor("in_proj_weight", shape: [3 * d, d])
        let inBias = try head.pp("attention").tensor("in_proj_bias", shape: [3 * d])
        func slice(_ part: Int) throws(EncoderError) -> LinearWeights {
            let (w, b) = (Tensor(zeros: [d, d]), Tensor(zeros: [d]))
            w.pointer.update(from: inWeight.pointer + part * d * d, count: d * d)
            b.pointer.update(from: inBias.pointer + part * d, count: d)
            return try root.linear(weight: w, bias: b)
        }
        (poolQ, poolK, poolV) = (try slice(0), try slice(1), try slice(2))
        poolOut = try head.pp("attention").pp("out_proj").linear(d, d)
        poolNorm = try head.pp("layernorm").layerNorm(d)
        poolFC1 = try head.pp("mlp").pp("fc1").linear(vc.ffn, d)
        poolFC2 = try head.pp("mlp").pp("fc2").linear(d, vc.ffn)
        logitScale = try root.tensor("logit_scale", shape: [1]).toArray().first ?? 0
        logitBias = try root.tensor("logit_bias", shape: [1]).toArray().first ?? 0
        try root.finish()
    }

    /// The match probability of a cosine between a text and an image embedding: σ(cos·exp(logit_scale) + logit_bias).
    public func matchProbability(cosine: Float) -> Float {
        1 / (1 + Foundation.exp(-(cosine * Foundation.exp(logitScale) + logitBias)))
    }

    /// Text embeddings [p] (not normalised), one per token-id sequence (each ≤ the context length).
    public func encodeTexts(_ sequences: [[Int32]]) throws(EncoderError) -> [[Float]] {
        let d = config.text.width
        var result: [[Float]] = []
        for (index, ids) in sequences.enumerated() {
            // Token + position embeddings -> [L, d]
            let x = try CLIP.embedTokens(ids, index: index, tokenEmbedding, textPosition, vocabSize: config.vocabSize)
            let pooled: Tensor = try CLIP.op { () throws(TensorError) in
                // Bidirectional transformer, final LayerNorm of the last position -> [1, d]
                let h = try CLIP.transformer(x, textLayers, config.text, causal: false, activation: .geluTanh)
                let last = Tensor(zeros: [1, d])
                try Ops.layerNorm(try h.rows((ids.count - 1)..<ids.count), gamma: finalNorm.0, beta: finalNorm.1,
                                  eps: config.text.eps, into: last)
                return last
            }
            result.append(try CLIP.op { () throws(TensorError) in
                let y = Tensor(zeros: [1, textHead.dOut])
                try Ops.linear(pooled, textHead, into: y)
                return y.toArray()
            })
        }
        return result
    }

    /// Image embeddings [p] and the patch tokens in the joint space [(S/P)²][p], per image ([S, S, 3] channels-last,
    /// normalised to [-1, 1], concatenated in `pixels`).
    public func encodeImages(_ pixels: Tensor) throws(EncoderError) -> [(embedding: [Float], patches: [[Float]])] {
        let (s, ps) = (config.imageSize, config.patchSize)
        let batch = try CLIP.imageCount(pixels, size: s, op: "SigLIP.encodeImages")
        var result: [(embedding: [Float], patches: [[Float]])] = []
        for b in 0..<batch {
            let out: (embedding: [Float], patches: [[Float]]) = try CLIP.op { () throws(TensorError) in
                // Patch embedding: P×P stride-P conv with bias, + positions -> [grid², d]
                let x = try CLIP.patchEmbedding(pixels, image: b, patchEmbedding, size: s, patch: ps)
                CLIP.addInPlace(x, visionPosition)
                // Transformer, post-LayerNorm -> [grid², d]
                let h = try CLIP.transformer(x, visionLayers, config.vision, causal: false, activation: .geluTanh)
                let post = Tensor(zeros: h.shape)
                try Ops.layerNorm(h, gamma: postNorm.0, beta: postNorm.1, eps: config.vision.eps, into: post)
                // MAP head -> [d]; each token through the head as if attended alone -> [grid², d]
                return (try self.attentionPool(post), Self.splitRows(try self.headTokens(post)))
            }
            result.append(out)
        }
        return result
    }

    /// The MAP head: the probe attends over the tokens (torch.nn.MultiheadAttention), then y = a + MLP(LN(a)).
    func attentionPool(_ tokens: Tensor) throws(TensorError) -> [Float] {
        let (n, d, c) = (tokens.shape[0], config.vision.width, config.vision)
        // Query from the probe [1, d]; keys and values from the tokens [n, d]
        let probeRow = try Tensor(shape: [1, d], values: probe.toArray())
        let q = Tensor(zeros: [1, d]), k = Tensor(zeros: [n, d]), v = Tensor(zeros: [n, d])
        try Ops.linear(probeRow, poolQ, into: q)
        try Ops.linear(tokens, poolK, into: k)
        try Ops.linear(tokens, poolV, into: v)
        // softmax(q·Kᵀ/√headDim)·V per head -> [1, d]; out_proj
        let context = Tensor(zeros: [1, d]), attended = Tensor(zeros: [1, d])
        let hd = d / c.heads, scale = 1 / Float(hd).squareRoot()
        var scores = [Float](repeating: 0, count: n)
        for h in 0..<c.heads {
            let qh = q.pointer + h * hd
            var peak = -Float.infinity
            for j in 0..<n {
                let kj = k.pointer + j * d + h * hd
                var dot: Float = 0
                for t in 0..<hd { dot += qh[t] * kj[t] }
                scores[j] = dot * scale
                peak = max(peak, scores[j])
            }
            var total: Float = 0
            for j in 0..<n { scores[j] = Foundation.exp(scores[j] - peak); total += scores[j] }
            let out = context.pointer + h * hd
            for j in 0..<n {
                let w = scores[j] / total, vj = v.pointer + j * d + h * hd
                for t in 0..<hd { out[t] += w * vj[t] }
            }
        }
        try Ops.linear(context, poolOut, into: attended)
        try headMLP(attended)
        return attended.toArray()
    }

    /// Every token [n, d] through the MAP head as if the probe attended to it alone (out_proj of its value, then the
    /// residual MLP): the image's token set in the joint space, for instruction pooling.
    func headTokens(_ tokens: Tensor) throws(TensorError) -> Tensor {
        let (n, d) = (tokens.shape[0], config.vision.width)
        let v = Tensor(zeros: [n, d]), attended = Tensor(zeros: [n, d])
        try Ops.linear(tokens, poolV, into: v)
        try Ops.linear(v, poolOut, into: attended)
        try headMLP(attended)
        return attended
    }

    /// The MAP head's residual MLP block in place: a += fc2(gelu_tanh(fc1(LN(a)))).
    func headMLP(_ a: Tensor) throws(TensorError) {
        let (n, d, c) = (a.shape[0], config.vision.width, config.vision)
        let normed = Tensor(zeros: [n, d]), ffn = Tensor(zeros: [n, c.ffn]), mlp = Tensor(zeros: [n, d])
        try Ops.layerNorm(a, gamma: poolNorm.0, beta: poolNorm.1, eps: c.eps, into: normed)
        try Ops.linear(normed, poolFC1, into: ffn)
        CLIP.activate(ffn, .geluTanh)
        try Ops.linear(ffn, poolFC2, into: mlp)
        CLIP.addInPlace(a, mlp)
    }

    static func splitRows(_ x: Tensor) -> [[Float]] {
        let (flat, d) = (x.toArray(), x.shape[1])
        return (0..<x.shape[0]).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
    }
}
