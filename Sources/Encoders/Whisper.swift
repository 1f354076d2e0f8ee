import Foundation
import Synchronization
import Tensor

/// Whisper — the speech recogniser that brings audio into text spaces (speech -> transcript -> text encoder).
///
/// - Model: Whisper (Radford et al. 2022, "Robust Speech Recognition via Large-Scale Weak Supervision",
///   arXiv:2212.04356): a pre-LayerNorm transformer encoder over a log-mel spectrogram (two k = 3 convolutions,
///   the second with stride 2, GELU, sinusoidal positions) and a pre-LayerNorm decoder with learned positions,
///   causal self-attention, cross-attention to the encoder states, and output logits tied to the token embedding.
/// - Reference implementation matched: CTranslate2's `models.Whisper` (compute_type float32) on the same model.bin,
///   with faster-whisper's feature extractor; golden tests in Tests/AudioTests/WhisperGoldenTests.swift
///   (models/reference_whisper.py): encoder states by cosine, greedy tokens exactly, no-speech probability.
/// - Checkpoint: CTranslate2 `WhisperSpec` model.bin (see `CTranslate2Model`), read directly; float16 linear
///   weights and token embedding stay float16 (widened as the kernels read them), the rest is widened at load.
///   With d = dModel, L = layers, dFF = 4d:
///     encoder/conv1/{weight [d, nMels, 3], bias [d]}, encoder/conv2/{weight [d, d, 3], bias [d]},
///     encoder/position_encodings/encodings [1500, d], encoder/num_heads,
///     encoder/layer_{i}/self_attention/{layer_norm/{gamma,beta} [d], linear_0 (fused QKV) {weight [3d, d], bias [3d]},
///       linear_1 {weight [d, d], bias [d]}}, encoder/layer_{i}/ffn/{layer_norm/{gamma,beta}, linear_0 [dFF, d],
///       linear_1 [d, dFF]}, encoder/layer_norm/{gamma,beta};
///     decoder/embeddings/weight [vocab, d] (also the output projection: alias decoder/projection/weight),
///     decoder/position_encodings/encodings [448, d], decoder/num_heads,
///     decoder/layer_{i}/self_attention/... (as the encoder's), decoder/layer_{i}/attention/{layer_norm,
///       linear_0 (Q) [d, d], linear_1 (fused cross K,V) [2d, d], linear_2 (out) [d, d]}, decoder/layer_{i}/ffn/...,
///     decoder/layer_norm/{gamma,beta}; flags decoder/{activation, alibi, alignment_heads, pre_norm,
///     scale_embeddings, start_from_zero_embedding}. Anything else is refused by name.
/// - Contract: `encode` takes one 30 s window of log-mel features, time-major [3000, nMels] (`Media.WhisperFeatures`),
///   and returns the encoder states [1500, d]; `WhisperDecoder` turns them into tokens.
public final class Whisper: Sendable {
    public struct Config: Sendable, Equatable {
        public var nMels: Int
        public var dModel: Int
        public var nHeads: Int
        public var nEncoderLayers: Int
        public var nDecoderLayers: Int
        public var audioContext: Int
        public var textContext: Int
        public var vocabSize: Int
        public var headDim: Int { dModel / nHeads }

        public init(nMels: Int, dModel: Int, nHeads: Int, nEncoderLayers: Int, nDecoderLayers: Int,
                    audioContext: Int, textContext: Int, vocabSize: Int) {
            self.nMels = nMels
            self.dModel = dModel
            self.nHeads = nHeads
            self.nEncoderLayers = nEncoderLayers
            self.nDecoderLayers = nDecoderLayers
            self.audioContext = audioContext
            self.textContext = textContext
            self.vocabSize = vocabSize
        }
        public var inputFrames: Int { 2 * audioContext }
    }

    struct AttentionBlock: Sendable {
        let normGamma: Tensor          // {prefix}/layer_norm/gamma [d]
        let normBeta: Tensor           // {prefix}/layer_norm/beta [d]
        let qkv: LinearWeights         // {prefix}/linear_0/{weight [3d, d], bias [3d]}
        let out: LinearWeights         // {prefix}/linear_1/{weight [d, d], bias [d]}
    }

    struct CrossAttentionBlock: Sendable {
        let normGamma: Tensor          // decoder/layer_{i}/attention/layer_norm/gamma [d]
        let normBeta: Tensor           // decoder/layer_{i}/attention/layer_norm/beta [d]
        let query: LinearWeights       // decoder/layer_{i}/attention/linear_0/{weight [d, d], bias [d]}
        let keyValue: LinearWeights    // decoder/layer_{i}/attention/linear_1/{weight [2d, d], bias [2d]}
        let out: LinearWeights         // decoder/layer_{i}/attention/linear_2/{weight [d, d], bias [d]}
    }

    struct FeedForward: Sendable {
        let normGamma: Tensor          // {prefix}/ffn/layer_norm/gamma [d]
        let normBeta: Tensor           // {prefix}/ffn/layer_norm/beta [d]
        let up: LinearWeights          // {prefix}/ffn/linear_0/{weight [dFF, d], bias [dFF]}
        let down: LinearWeights        // {prefix}/ffn/linear_1/{weight [d, dFF], bias [d]}
    }

    struct EncoderLayer: Sendable {
        let attention: AttentionBlock  // encoder/layer_{i}/self_attention
        let ffn: FeedForward           // encoder/layer_{i}/ffn
    }

    struct DecoderLayer: Sendable {
        let selfAttention: AttentionBlock   // decoder/layer_{i}/self_attention
        let crossAttention: CrossAttentionBlock
        let ffn: FeedForward                // decoder/layer_{i}/ffn
    }

    public let config: Config
    public let threads: Int
    let conv1Weight: Tensor        // encoder/conv1/weight [d, nMels, 3]
    let conv1Bias: Tensor          // encoder/conv1/bias [d]
    let conv2Weight: Tensor        // encoder/conv2/weight [d, d, 3]
    let conv2Bias: Tensor          // encoder/conv2/bias [d]
    let encoderPositions: Tensor   // encoder/position_encodings/encodings [1500, d]
    let encoderLayers: [EncoderLayer]
    let encoderNormGamma: Tensor   // encoder/layer_norm/gamma [d]
    let encoderNormBeta: Tensor    // encoder/layer_norm/beta [d]
    let tokenEmbedding: EmbeddingTable  // decoder/embeddings/weight [vocab, d] (= decoder/projection/weight)
    let decoderPositions: Tensor   // decoder/position_encodings/encodings [448, d]
    let decoderLayers: [DecoderLayer]
    let decoderNormGamma: Tensor   // decoder/layer_norm/gamma [d]
    let decoderNormBeta: Tensor    // decoder/layer_norm/beta [d]

    /// Flags of the spec that this implementation assumes, with the values it needs.
    static let expectedFlags: [String: Int] = [
        "decoder/pre_norm": 1, "decoder/scale_embeddings": 0, "decoder/alibi": 0, "decoder/start_from_zero_embedding": 0,
    ]
    static let ignoredVariables: Set<String> = ["decoder/activation", "decoder/alignment_heads", "decoder/alignment_layer"]

    /// Loads `model.bin`; every variable is accounted for, shapes checked against the spec.
    public init(modelFile: String, threads: Int = 1) throws(EncoderError) {
        let file = try CTranslate2Model(path: modelFile)
        guard file.specName == "WhisperSpec" else {
            throw .invalidConfig(file: modelFile, detail: "spec '\(file.specName)', expected WhisperSpec")
        }
        var used: Set<String> = ["encoder/num_heads", "decoder/num_heads"]
        /// Marks the variable `name` (or what it aliases) as read, and returns the name.
        func use(_ name: String) -> String {
            used.insert(file.aliases[name] ?? name)
            return name
        }
        func t(_ name: String, _ shape: [Int]) throws(EncoderError) -> Tensor {
            try file.tensor(use(name), shape: shape)
        }
        func linear(_ prefix: String, _ dOut: Int, _ dIn: Int) throws(EncoderError) -> LinearWeights {
            try file.linear(weight: use(prefix + "/weight"), bias: use(prefix + "/bias"), dOut: dOut, dIn: dIn)
        }
        let conv1 = try file.variable("encoder/conv1/weight").shape
        let embedding = try file.variable("decoder/embeddings/weight").shape
        let audioPositions = try file.variable("encoder/position_encodings/encodings").shape
        let textPositions = try file.variable("decoder/position_encodings/encodings").shape
        guard conv1.count == 3, embedding.count == 2, audioPositions.count == 2, textPositions.count == 2 else {
            throw .invalidConfig(file: modelFile, detail: "conv1 \(conv1), embeddings \(embedding): unexpected ranks")
        }
        let d = conv1[0]
        func layerCount(_ side: String) -> Int {
            Set(file.variables.keys.compactMap { name -> Int? in
                let parts = name.split(separator: "/")
                guard parts.count > 2, parts[0] == side, parts[1].hasPrefix("layer_") else { return nil }
                return Int(parts[1].dropFirst(6))
            }).count
        }
        config = Config(nMels: conv1[1], dModel: d, nHeads: try file.integer("encoder/num_heads"),
                        nEncoderLayers: layerCount("encoder"), nDecoderLayers: layerCount("decoder"),
                        audioContext: audioPositions[0], textContext: textPositions[0], vocabSize: embedding[0])
        guard try file.integer("decoder/num_heads") == config.nHeads, d % config.nHeads == 0, d % 16 == 0 else {
            throw .invalidConfig(file: modelFile, detail: "heads \(config.nHeads) do not divide dModel \(d) (or dModel % 16 != 0)")
        }
        for (flag, value) in Self.expectedFlags {
            used.insert(flag)
            if file.variables[flag] != nil, try file.integer(flag) != value {
                throw .invalidConfig(file: modelFile, detail: "\(flag) is \(try file.integer(flag)), this implementation needs \(value)")
            }
        }
        used.formUnion(Self.ignoredVariables)
        let dFF = try file.variable("encoder/layer_0/ffn/linear_0/weight").shape[0]
        func attention(_ prefix: String) throws(EncoderError) -> AttentionBlock {
            AttentionBlock(normGamma: try t(prefix + "/layer_norm/gamma", [d]), normBeta: try t(prefix + "/layer_norm/beta", [d]),
                           qkv: try linear(prefix + "/linear_0", 3 * d, d), out: try linear(prefix + "/linear_1", d, d))
        }
        func ffn(_ prefix: String) throws(EncoderError) -> FeedForward {
            FeedForward(normGamma: try t(prefix + "/layer_norm/gamma", [d]), normBeta: try t(prefix + "/layer_norm/beta", [d]),
                        up: try linear(prefix + "/linear_0", dFF, d), down: try linear(prefix + "/linear_1", d, dFF))
        }
        conv1Weight = try t("encoder/conv1/weight", [d, config.nMels, 3])
        conv1Bias = try t("encoder/conv1/bias", [d])
        conv2Weight = try t("encoder/conv2/weight", [d, d, 3])
        conv2Bias = try t("encoder/conv2/bias", [d])
        encoderPositions = try t("encoder/position_encodings/encodings", [config.audioContext, d])
        var encoderLayers: [EncoderLayer] = []
        for i in 0..<config.nEncoderLayers {
            let p = "encoder/layer_\(i)"
            encoderLayers.append(EncoderLayer(attention: try attention(p + "/self_attention"), ffn: try ffn(p + "/ffn")))
        }
        self.encoderLayers = encoderLayers
        encoderNormGamma = try t("encoder/layer_norm/gamma", [d])
        encoderNormBeta = try t("encoder/layer_norm/beta", [d])
        tokenEmbedding = try file.embeddingTable(use("decoder/embeddings/weight"), shape: [config.vocabSize, d])
        if file.aliases["decoder/projection/weight"] != nil { used.insert("decoder/projection/weight") }
        else if file.variables["decoder/projection/weight"] != nil {
            throw .invalidConfig(file: modelFile, detail: "an untied decoder/projection/weight is not supported")
        }
        decoderPositions = try t("decoder/position_encodings/encodings", [config.textContext, d])
        var decoderLayers: [DecoderLayer] = []
        for i in 0..<config.nDecoderLayers {
            let p = "decoder/layer_\(i)"
            let cross = CrossAttentionBlock(
                normGamma: try t(p + "/attention/layer_norm/gamma", [d]), normBeta: try t(p + "/attention/layer_norm/beta", [d]),
                query: try linear(p + "/attention/linear_0", d, d), keyValue: try linear(p + "/attention/linear_1", 2 * d, d),
                out: try linear(p + "/attention/linear_2", d, d))
            decoderLayers.append(DecoderLayer(selfAttention: try attention(p + "/self_attention"), crossAttention: cross,
                                              ffn: try ffn(p + "/ffn")))
        }
        self.decoderLayers = decoderLayers
        decoderNormGamma = try t("decoder/layer_norm/gamma", [d])
        decoderNormBeta = try t("decoder/layer_norm/beta", [d])
        let unknown = Set(file.variables.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw .unexpectedTensors(file: modelFile, expectedCount: used.intersection(file.variables.keys).count, actualCount: file.variables.count, names: unknown)
        }
        self.threads = max(1, threads)
    }

    /// Encoder states [audioContext, d] of one window of log-mel features, time-major [2·audioContext, nMels].
    public func encode(_ mel: [Float]) throws(EncoderError) -> Tensor {
        let c = config, d = c.dModel, frames = c.inputFrames, n = c.audioContext, w = threads
        guard mel.count == frames * c.nMels else {
            throw .invalidSequence(index: 0, length: mel.count / max(1, c.nMels), maxLength: frames)
        }
        do throws(TensorError) {
            let input = try Tensor(shape: [frames, c.nMels], values: mel)
            // Front end: conv1 (k 3, pad 1) + GELU [3000, d]; conv2 (k 3, stride 2, pad 1) + GELU [1500, d].
            let h1 = Tensor(zeros: [frames, d])
            try Ops.conv1d(input, weight: conv1Weight, bias: conv1Bias, stride: 1, padding: 1,
                           columns: Tensor(zeros: [frames * c.nMels * 3]), workers: w, into: h1)
            try Ops.gelu(h1, into: h1)
            let x = Tensor(zeros: [n, d])
            try Ops.conv1d(h1, weight: conv2Weight, bias: conv2Bias, stride: 2, padding: 1,
                           columns: Tensor(zeros: [n * d * 3]), workers: w, into: x)
            try Ops.gelu(x, into: x)
            // + sinusoidal positions
            try Ops.add(x, encoderPositions, into: x)
            let h = Tensor(zeros: [n, d]), qkv = Tensor(zeros: [n, 3 * d]), a = Tensor(zeros: [n, d])
            let f = Tensor(zeros: [n, encoderLayers[0].ffn.up.dOut]), o = Tensor(zeros: [n, d])
            let scores = Tensor(zeros: [w * n * n])
            for layer in encoderLayers {
                // Self-attention: x += Out(Attn(LN(x)))   [1500, d]
                try Ops.layerNorm(x, gamma: layer.attention.normGamma, beta: layer.attention.normBeta, eps: 1e-5, into: h)
                try Ops.linear(h, layer.attention.qkv, workers: w, into: qkv)
                try Ops.attention(q: qkv.columns(0..<d), k: qkv.columns(d..<(2 * d)), v: qkv.columns((2 * d)..<(3 * d)),
                                  nHeads: c.nHeads, segments: [0..<n], scores: scores, workers: w, into: a)
                try Ops.linear(a, layer.attention.out, workers: w, into: o)
                try Ops.add(x, o, into: x)
                // MLP: x += Down(GELU(Up(LN(x))))   [1500, dFF] -> [1500, d]
                try Ops.layerNorm(x, gamma: layer.ffn.normGamma, beta: layer.ffn.normBeta, eps: 1e-5, into: h)
                try Ops.linear(h, layer.ffn.up, activation: .gelu, workers: w, into: f)
                try Ops.linear(f, layer.ffn.down, workers: w, into: o)
                try Ops.add(x, o, into: x)
            }
            let out = Tensor(zeros: [n, d])
            try Ops.layerNorm(x, gamma: encoderNormGamma, beta: encoderNormBeta, eps: 1e-5, into: out)
            return out
        } catch { throw .tensor(error) }
    }
}
