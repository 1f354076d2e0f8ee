import Tensor

/// The aiSFX sound-effects embedding network (audio-to-audio similarity).
///
/// - Model: Ma & Lerch 2022, "Representation Learning for the Automatic Indexing of Sound Effects Libraries"
///   (ISMIR), model X-Sequential-CE: the embedding net of the DCASE cross-task baseline (Kong et al. 2018,
///   arXiv:1808.00773, "Cnn_9layers" with max pooling) trained across several sound-effects datasets. Four
///   blocks of [3×3 conv (no bias) → batch norm → ReLU] × 2, the first three followed by 2×2 max pooling,
///   widths 64, 128, 256, 512; then the mean over frequency and the maximum over time: a 512-d vector per
///   block of 100 spectrogram frames (2.3 s; front end: Media `SoundEffectFeatures`).
/// - Reference implementation matched: `aisfx.models.cnn2d.EmbeddingNet('max', 3, 1, 64)` in eval mode
///   (PyPI aisfx 0.1.2, MIT code, model CC BY 4.0), goldens in Tests/Fixtures/aisfx (models/reference_aisfx.py).
/// - Checkpoint: aisfx/models/checkpoint.pth converted to safetensors by models/pth_convert.py:
///     embedding_net.conv_block{1…4}.conv{1,2}.weight [cOut, cIn, 3, 3], .bn{1,2}.* [cOut]
///   (the per-dataset classifier heads fc.* are training-only and ignored).
/// - Contract: features [frames, 96] time-major; output one vector per block, blocks of 100 frames with a hop of
///   50 (a last partial block dropped, a clip shorter than one block zero-padded), as aisfx's `blocking`.
public final class SoundEffectsCNN: Sendable {
    public static let blockFrames = 100
    public static let blockHop = 50
    public static let melBins = 96
    static let widths = [64, 128, 256, 512]
    static let batchNormEpsilon: Float = 1e-5

    public var dimensions: Int { Self.widths[Self.widths.count - 1] }
    public let threads: Int
    /// (conv1, conv2) per block, batch norms folded in.
    let blocks: [(ConvWeights, ConvWeights)]

    public init(weights file: SafeTensors, threads: Int = 1, precision: Precision = .float32) throws(EncoderError) {
        self.threads = max(1, threads)
        let root = WeightLoader(file: file, precision: precision)
        let vb = root.pp("embedding_net")
        var blocks: [(ConvWeights, ConvWeights)] = []
        var cIn = 1
        for (i, width) in Self.widths.enumerated() {
            let b = vb.pp("conv_block\(i + 1)")
            blocks.append((
                try b.convolution("conv1", batchNorm: "bn1", shape: [width, cIn, 3, 3], epsilon: Self.batchNormEpsilon),
                try b.convolution("conv2", batchNorm: "bn2", shape: [width, width, 3, 3], epsilon: Self.batchNormEpsilon)))
            cIn = width
        }
        for name in file.names where name.hasPrefix("fc.") { root.ignore(name) }
        self.blocks = blocks
        try root.finish()
    }

    /// The blocks aisfx's `blocking` cuts `frames` frames into: start frames, in order.
    public static func blockStarts(frames: Int) -> [Int] {
        var count = Int((Double(frames - blockFrames) / Double(blockHop) + 1).rounded(.up))
        if (frames - blockFrames) % blockHop != 0 { count -= 1 }
        return (0..<max(1, count)).map { $0 * blockHop }
    }

    /// One 512-d vector per block of `features` [frames, 96] (time-major), in order. `stop` is asked before
    /// every block; when it says yes the forward ends with `EncoderError.stopped`.
    public func forward(_ features: [Float], frames: Int, stop: () -> Bool = { false }) throws(EncoderError) -> [[Float]] {
        guard features.count == frames * Self.melBins, frames > 0 else {
            throw .tensor(.shapeMismatch(op: "SoundEffectsCNN.forward", expected: [frames, Self.melBins], actual: [features.count]))
        }
        var vectors: [[Float]] = []
        for start in Self.blockStarts(frames: frames) {
            guard !stop() else { throw .stopped }
            var block = [Float](repeating: 0, count: Self.blockFrames * Self.melBins)
            let available = max(0, min(Self.blockFrames, frames - start))
            block.replaceSubrange(0..<(available * Self.melBins),
                                  with: features[(start * Self.melBins)..<((start + available) * Self.melBins)])
            vectors.append(try Self.op { () throws(TensorError) in
                try embedBlock(try Tensor(shape: [1, Self.blockFrames, Self.melBins, 1], values: block))
            })
        }
        return vectors
    }

    /// x [1, time, freq, 1] -> 512: the conv blocks, then mean over frequency and max over time.
    private func embedBlock(_ input: Tensor) throws(TensorError) -> [Float] {
        var x = input
        for (i, (conv1, conv2)) in blocks.enumerated() {
            x = try conv(conv(x, conv1), conv2)
            if i < blocks.count - 1 { x = try Ops.maxPool2x2(x) }
        }
        let (time, freq, c) = (x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: -.infinity, count: c)
        let p = x.pointer
        for t in 0..<time {
            for ch in 0..<c {
                var sum: Float = 0
                for f in 0..<freq { sum += p[(t * freq + f) * c + ch] }
                out[ch] = max(out[ch], sum / Float(freq))
            }
        }
        return out
    }

    /// 3×3 convolution, padding 1, stride 1, with its folded batch norm and ReLU.
    private func conv(_ x: Tensor, _ w: ConvWeights) throws(TensorError) -> Tensor {
        let y = Tensor(zeros: [x.shape[0], x.shape[1], x.shape[2], w.cOut])
        try Ops.conv2d(x, w, stride: 1, padding: .symmetric(1), activation: .relu, workers: threads, into: y)
        return y
    }

    private static func op<T>(_ body: () throws(TensorError) -> T) throws(EncoderError) -> T {
        do { return try body() } catch { throw .tensor(error) }
    }
}
