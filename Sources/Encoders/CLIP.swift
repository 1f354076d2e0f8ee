import Foundation
import Tensor

/// CLIP: a ViT image tower and a causal text transformer trained into one space.
///
/// - Model: CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision",
///   arXiv:2103.00020); vision tower ViT (Dosovitskiy et al. 2020) with a class token and pre-LayerNorm.
/// - Reference implementation matched: Hugging Face transformers `CLIPModel` (`modeling_clip.py`), eval mode:
///   `get_text_features` and `visual_projection(vision_model(...).pooler_output)`; golden tests in
///   Tests/VisionTests/CLIPGoldenTests.swift (models/reference_clip.py: the ViT-B/32 config, seeded weights).
/// - Checkpoint: a Hugging Face CLIPModel folder (config.json with text_config/vision_config/projection_dim,
///   model.safetensors). Per tower T ∈ {text_model, vision_model}, layers i, width d:
///     T.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.{weight [d, d], bias [d]},
///     T.encoder.layers.{i}.layer_norm{1,2}.{weight,bias} [d], T.encoder.layers.{i}.mlp.fc1.{weight [dFF, d], bias},
///     T.encoder.layers.{i}.mlp.fc2.{weight [d, dFF], bias [d]};
///     text_model.embeddings.token_embedding.weight [vocab, d], text_model.embeddings.position_embedding.weight
///     [77, d], text_model.final_layer_norm.{weight,bias}, text_projection.weight [p, d];
///     vision_model.embeddings.class_embedding [d], vision_model.embeddings.patch_embedding.weight [d, 3, P, P],
///     vision_model.embeddings.position_embedding.weight [(S/P)²+1, d], vision_model.pre_layrnorm.{weight,bias},
///     vision_model.post_layernorm.{weight,bias}, visual_projection.weight [p, d]; logit_scale [].
///   Known and ignored: *.position_ids (integer buffers). Anything else is refused by name.
/// - Contract: text = token ids from `CLIPTokenizer` (with <|startoftext|> … <|endoftext|>, ≤ 77), pooled at the
///   first <|endoftext|>; image = [S, S, 3] channels-last, CLIP-normalised (mean 0.4815 0.4578 0.4082, std 0.2686
///   0.2613 0.2758) after a bicubic resize of the shorter side to S and a centre crop. Outputs are the projected,
///   unnormalised embeddings [p]; `encodeImages` also returns the patch tokens in the joint space
///   (post_layernorm + visual_projection of each patch token, [(S/P)², p]) for instruction pooling.
public final class CLIP: Sendable {
    public struct Config: Sendable, Equatable {
        public struct Tower: Sendable, Equatable {
            public var width: Int, layers: Int, heads: Int, ffn: Int, eps: Float
        }

        /// A two-tower config.json: the object, its text_config and vision_config (each's hidden_act, where given,
        /// must be `activation`).
        static func towers(_ url: URL, activation: String) throws(EncoderError) -> (root: [String: Any], text: [String: Any], vision: [String: Any]) {
            guard let data = try? Data(contentsOf: url),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw .invalidConfig(file: url.path, detail: "unreadable or not a JSON object")
            }
            let t = json["text_config"] as? [String: Any] ?? [:], v = json["vision_config"] as? [String: Any] ?? [:]
            for (name, tower) in [("text_config", t), ("vision_config", v)] {
                if let act = tower["hidden_act"] as? String, act != activation {
                    throw .invalidConfig(file: url.path, detail: "\(name).hidden_act \(act): only \(activation) is implemented")
                }
            }
            return (json, t, v)
        }
        public var text: Tower
        public var vision: Tower
        public var vocabSize: Int, contextLength: Int, imageSize: Int, patchSize: Int, projectionDim: Int

        /// Reads a Hugging Face CLIPModel config.json (missing fields take the ViT-B/32 values).
        public static func load(from url: URL) throws(EncoderError) -> Config {
            let (json, t, v) = try towers(url, activation: "quick_gelu")
            return Config(text: Tower(t, defaults: Tower(width: 512, layers: 12, heads: 8, ffn: 2048, eps: 1e-5)),
                          vision: Tower(v, defaults: Tower(width: 768, layers: 12, heads: 12, ffn: 3072, eps: 1e-5)),
                          vocabSize: t["vocab_size"] as? Int ?? 49408, contextLength: t["max_position_embeddings"] as? Int ?? 77,
                          imageSize: v["image_size"] as? Int ?? 224, patchSize: v["patch_size"] as? Int ?? 32,
                          projectionDim: json["projection_dim"] as? Int ?? 512)
        }
    }

    /// One pre-LN transformer layer (both towers; SigLIP's too).
    struct Layer: Sendable {
        let norm1: (Tensor, Tensor)     // layer_norm1.{weight,bias} [d]
        let q: LinearWeights            // self_attn.q_proj.{weight [d, d], bias [d]}
        let k: LinearWeights            // self_attn.k_proj
        let v: LinearWeights            // self_attn.v_proj
        let out: LinearWeights          // self_attn.out_proj
        let norm2: (Tensor, Tensor)     // layer_norm2.{weight,bias} [d]
        let fc1: LinearWeights          // mlp.fc1.{weight [dFF, d], bias [dFF]}
        let fc2: LinearWeights          // mlp.fc2.{weight [d, dFF], bias [d]}

        /// The layers `encoder.layers.{i}` under `vb`.
        static func stack(_ vb: WeightLoader, _ c: Config.Tower) throws(EncoderError) -> [Layer] {
            var out: [Layer] = []
            for i in 0..<c.layers {
                let lb = vb.pp("encoder").pp("layers").pp(i), attn = lb.pp("self_attn")
                out.append(Layer(
                    norm1: try lb.pp("layer_norm1").layerNorm(c.width),
                    q: try attn.pp("q_proj").linear(c.width, c.width), k: try attn.pp("k_proj").linear(c.width, c.width),
                    v: try attn.pp("v_proj").linear(c.width, c.width), out: try attn.pp("out_proj").linear(c.width, c.width),
                    norm2: try lb.pp("layer_norm2").layerNorm(c.width),
                    fc1: try lb.pp("mlp").pp("fc1").linear(c.ffn, c.width), fc2: try lb.pp("mlp").pp("fc2").linear(c.width, c.ffn)))
            }
            return out
        }
    }

    public let config: Config
    let tokenEmbedding: Tensor          // text_model.embeddings.token_embedding.weight [vocab, d]
    let textPosition: Tensor            // text_model.embeddings.position_embedding.weight [77, d]
    let textLayers: [Layer]             // text_model.encoder.layers.{i}
    let finalNorm: (Tensor, Tensor)     // text_model.final_layer_norm.{weight,bias}
    let textProjection: LinearWeights   // text_projection.weight [p, d]
    let classEmbedding: Tensor          // vision_model.embeddings.class_embedding [d]
    let patchEmbedding: ConvWeights     // vision_model.embeddings.patch_embedding.weight [d, 3, P, P]
    let visionPosition: Tensor          // vision_model.embeddings.position_embedding.weight [N+1, d]
    let preNorm: (Tensor, Tensor)       // vision_model.pre_layrnorm.{weight,bias}
    let visionLayers: [Layer]           // vision_model.encoder.layers.{i}
    let postNorm: (Tensor, Tensor)      // vision_model.post_layernorm.{weight,bias}
    let visualProjection: LinearWeights // visual_projection.weight [p, d]
    public let logitScale: Float        // logit_scale []

    public init(config: Config, weights file: SafeTensors, precision: Precision = .float32) throws(EncoderError) {
        self.config = config
        let root = WeightLoader(file: file, precision: precision)
        let (tc, vc, p) = (config.text, config.vision, config.projectionDim)
        let text = root.pp("text_model"), vision = root.pp("vision_model")
        tokenEmbedding = try text.pp("embeddings").pp("token_embedding").tensor("weight", shape: [config.vocabSize, tc.width])
        textPosition = try text.pp("embeddings").pp("position_embedding").tensor("weight", shape: [config.contextLength, tc.width])
        text.pp("embeddings").ignore("position_ids")
        textLayers = try Layer.stack(text, tc)
        finalNorm = try text.pp("final_layer_norm").layerNorm(tc.width)
        textProjection = try root.pp("text_projection").linear(p, tc.width, bias: false)
        let patches = (config.imageSize / config.patchSize) * (config.imageSize / config.patchSize)
        classEmbedding = try vision.pp("embeddings").tensor("class_embedding", shape: [vc.width])
        let patchWeight = try vision.pp("embeddings").pp("patch_embedding").tensor("weight", shape: [vc.width, 3, config.patchSize, config.patchSize])
        patchEmbedding = try root.convolution(weight: patchWeight, bias: nil)
        visionPosition = try vision.pp("embeddings").pp("position_embedding").tensor("weight", shape: [patches + 1, vc.width])
        vision.pp("embeddings").ignore("position_ids")
        preNorm = try vision.pp("pre_layrnorm").layerNorm(vc.width)
        visionLayers = try Layer.stack(vision, vc)
        postNorm = try vision.pp("post_layernorm").layerNorm(vc.width)
        visualProjection = try root.pp("visual_projection").linear(p, vc.width, bias: false)
        logitScale = try root.tensor("logit_scale", shape: []).toArray().first ?? 0
        try root.finish()
    }

    /// Projected text embeddings [p] (not normalised), one per token-id sequence.
    public func encodeTexts(_ sequences: [[Int32]]) throws(EncoderError) -> [[Float]] {
        let d = config.text.width
        var result: [[Float]] = []
        for (index, ids) in sequences.enumerated() {
            // Token + position embeddings -> [L, d]
            let x = try Self.embedTokens(ids, index: index, tokenEmbedding, textPosition, vocabSize: config.vocabSize)
            let pooled: Tensor = try Self.op { () throws(TensorError) in
                // Causal transformer, final LayerNorm -> [L, d]
                let h = try Self.transformer(x, textLayers, config.text, causal: true, activation: .quickGELU)
                let normed = Tensor(zeros: [ids.count, d])
                try Ops.layerNorm(h, gamma: finalNorm.0, beta: finalNorm.1, eps: config.text.eps, into: normed)
                // Pool at the first <|endoftext|> (the highest id, as HF's argmax) -> [1, d]
                let eot = ids.indices.max { ids[$0] < ids[$1] }!
                return try normed.rows(eot..<(eot + 1))
            }
            result.append(try project(pooled, textProjection)[0])
        }
        return result
    }

    /// Projected image embeddings [p] and patch tokens in the joint space [(S/P)²][p], per image
    /// ([S, S, 3] channels-last, CLIP-normalised, concatenated in `pixels`).
    public func encodeImages(_ pixels: Tensor) throws(EncoderError) -> [(embedding: [Float], patches: [[Float]])] {
        let (s, d, ps) = (config.imageSize, config.vision.width, config.patchSize)
        let batch = try Self.imageCount(pixels, size: s, op: "CLIP.encodeImages")
        let grid = s / ps
        var result: [(embedding: [Float], patches: [[Float]])] = []
        for b in 0..<batch {
            let hidden: Tensor = try Self.op { () throws(TensorError) in
                // Patch embedding: P×P stride-P conv, no bias -> [grid², d]
                let patches = try Self.patchEmbedding(pixels, image: b, patchEmbedding, size: s, patch: ps)
                // [class; patches] + positions -> [grid²+1, d]; pre-LayerNorm
                let x = Tensor(zeros: [grid * grid + 1, d])
                x.pointer.update(from: classEmbedding.pointer, count: d)
                (x.pointer + d).update(from: patches.pointer, count: grid * grid * d)
                Self.addInPlace(x, visionPosition)
                let pre = Tensor(zeros: x.shape)
                try Ops.layerNorm(x, gamma: preNorm.0, beta: preNorm.1, eps: config.vision.eps, into: pre)
                // Transformer, post-LayerNorm of every token -> [grid²+1, d]
                let h = try Self.transformer(pre, visionLayers, config.vision, causal: false, activation: .quickGELU)
                let post = Tensor(zeros: h.shape)
                try Ops.layerNorm(h, gamma: postNorm.0, beta: postNorm.1, eps: config.vision.eps, into: post)
                return post
            }
            // Projection of the class token (the embedding) and of the patch tokens -> [p] and [grid², p]
            let projected = try project(hidden, visualProjection)
            result.append((projected[0], Array(projected.dropFirst())))
        }
        return result
    }

    /// The feed-forward nonlinearity of a tower.
    enum Activation {
        /// z·σ(1.702·z) (OpenAI CLIP).
        case quickGELU
        /// PyTorch `gelu(approximate="tanh")` (SigLIP's gelu_pytorch_tanh).
        case geluTanh
    }

    /// Pre-LN transformer layers over one sequence [L, d] (CLIP's and SigLIP's towers).
    static func transformer(_ input: Tensor, _ layers: [Layer], _ c: Config.Tower, causal: Bool,
                            activation: Activation) throws(TensorError) -> Tensor {
        let (n, d) = (input.shape[0], c.width)
        let x = input.copy()
        let normed = Tensor(zeros: [n, d]), q = Tensor(zeros: [n, d]), k = Tensor(zeros: [n, d]), v = Tensor(zeros: [n, d])
        let context = Tensor(zeros: [n, d]), sub = Tensor(zeros: [n, d]), ffn = Tensor(zeros: [n, c.ffn])
        let scores = Tensor(zeros: [causal ? 0 : n * n])
        for layer in layers {
            // Attention block: x += out_proj(attention(LN1(x)))
            try Ops.layerNorm(x, gamma: layer.norm1.0, beta: layer.norm1.1, eps: c.eps, into: normed)
            try Ops.linear(normed, layer.q, into: q)
            try Ops.linear(normed, layer.k, into: k)
            try Ops.linear(normed, layer.v, into: v)
            if causal {
                attention(q, k, v, heads: c.heads, causal: true, into: context)
            } else {
                try Ops.attention(q: q, k: k, v: v, nHeads: c.heads, segments: [0..<n], scores: scores, into: context)
            }
            try Ops.linear(context, layer.out, into: sub)
            addInPlace(x, sub)
            // MLP block: x += fc2(act(fc1(LN2(x))))
            try Ops.layerNorm(x, gamma: layer.norm2.0, beta: layer.norm2.1, eps: c.eps, into: normed)
            try Ops.linear(normed, layer.fc1, into: ffn)
            activate(ffn, activation)
            try Ops.linear(ffn, layer.fc2, into: sub)
            addInPlace(x, sub)
        }
        return x
    }

    static func activate(_ x: Tensor, _ activation: Activation) {
        let p = x.pointer
        switch activation {
        case .quickGELU:
            for i in 0..<x.count { p[i] = p[i] / (1 + Foundation.exp(-1.702 * p[i])) }
        case .geluTanh:
            let c: Float = 0.797_884_560_802_865_4  // √(2/π)
            for i in 0..<x.count { p[i] = 0.5 * p[i] * (1 + Foundation.tanh(c * (p[i] + 0.044715 * p[i] * p[i] * p[i]))) }
        }
    }

    /// The number of images in `pixels`, which must be [batch, size, size, 3].
    static func imageCount(_ pixels: Tensor, size s: Int, op: String) throws(EncoderError) -> Int {
        let batch = pixels.shape.first ?? 0
        guard pixels.shape == [batch, s, s, 3] else {
            throw .tensor(.shapeMismatch(op: op, expected: [batch, s, s, 3], actual: pixels.shape))
        }
        return batch
    }

    /// Image `b` of `pixels` [batch, S, S, 3] through a P×P stride-P patch convolution -> [(S/P)², d].
    static func patchEmbedding(_ pixels: Tensor, image b: Int, _ conv: ConvWeights, size s: Int, patch ps: Int) throws(TensorError) -> Tensor {
        let image = Tensor(zeros: [1, s, s, 3])
        image.pointer.update(from: pixels.pointer + b * s * s * 3, count: s * s * 3)
        let patches = Tensor(zeros: [1, s / ps, s / ps, conv.cOut])
        try Ops.conv2d(image, conv, stride: ps, padding: .symmetric(0), into: patches)
        return try Tensor(shape: [(s / ps) * (s / ps), conv.cOut], values: patches.toArray())
    }

    /// Token + position embeddings of sequence `index` -> [L, d]; refuses a sequence that is empty, longer than the
    /// position table or holds an id outside the vocabulary.
    static func embedTokens(_ ids: [Int32], index: Int, _ tokenEmbedding: Tensor, _ positions: Tensor,
                            vocabSize: Int) throws(EncoderError) -> Tensor {
        let (contextLength, d) = (positions.shape[0], positions.shape[1])
        guard (1...contextLength).contains(ids.count) else {
            throw .invalidSequence(index: index, length: ids.count, maxLength: contextLength)
        }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
            throw .tokenOutOfRange(index: index, token: bad, vocabSize: vocabSize)
        }
        return try op { () throws(TensorError) in
            let x = Tensor(zeros: [ids.count, d])
            try Ops.embeddingLookup(tokenEmbedding, ids: ids, into: x)
            addInPlace(x, try positions.rows(0..<ids.count))
            return x
        }
    }

    static func addInPlace(_ x: Tensor, _ y: Tensor) {
        let (xp, yp) = (x.pointer, y.pointer)
        for i in 0..<x.count { xp[i] += yp[i] }
    }

    /// softmax(Q·Kᵀ/√headDim [+ causal mask])·V per head; sequences are at most a few hundred tokens.
    static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, causal: Bool, into out: Tensor) {
        let (n, d) = (q.shape[0], q.shape[1])
        let hd = d / heads
        let scale = 1 / Float(hd).squareRoot()
        let (qp, kp, vp, op) = (q.pointer, k.pointer, v.pointer, out.pointer)
        var scores = [Float](repeating: 0, count: n)
        for h in 0..<heads {
            for i in 0..<n {
                let keys = causal ? i + 1 : n
                let qi = qp + i * d + h * hd
                var peak = -Float.infinity
                for j in 0..<keys {
                    let kj = kp + j * d + h * hd
                    var s: Float = 0
                    for t in 0..<hd { s += qi[t] * kj[t] }
                    scores[j] = s * scale
                    peak = max(peak, scores[j])
                }
                var total: Float = 0
                for j in 0..<keys { scores[j] = Foundation.exp(scores[j] - peak); total += scores[j] }
                let oi = op + i * d + h * hd
                for t in 0..<hd { oi[t] = 0 }
                for j in 0..<keys {
                    let w = scores[j] / total, vj = vp + j * d + h * hd
                    for t in 0..<hd { oi[t] += w * vj[t] }
                }
            }
        }
    }

    private func project(_ x: Tensor, _ w: LinearWeights) throws(EncoderError) -> [[Float]] {
        try Self.op { () throws(TensorError) in
            let y = Tensor(zeros: [x.shape[0], w.dOut])
            try Ops.linear(x, w, into: y)
            let flat = y.toArray()
            return (0..<x.shape[0]).map { Array(flat[($0 * w.dOut)..<(($0 + 1) * w.dOut)]) }
        }
    }

    static func op<T>(_ body: () throws(TensorError) -> T) throws(EncoderError) -> T {
        do { return try body() } catch { throw .tensor(error) }
    }
}

extension CLIP.Config.Tower {
    /// A tower of config.json (`text_config` / `vision_config`); missing fields take `defaults`'.
    init(_ c: [String: Any], defaults: Self) {
        self.init(width: c["hidden_size"] as? Int ?? defaults.width, layers: c["num_hidden_layers"] as? Int ?? defaults.layers,
                  heads: c["num_attention_heads"] as? Int ?? defaults.heads, ffn: c["intermediate_size"] as? Int ?? defaults.ffn,
                  eps: Float(c["layer_norm_eps"] as? Double ?? Double(defaults.eps)))
    }
}
