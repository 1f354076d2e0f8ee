import Tensor

extension WeightLoader {
    /// The convolution `<name>.weight` (bias-free, PyTorch layout, `shape`) with the inference-mode batch norm
    /// `<batchNorm>.*` after it folded in:
    ///     w'[o] = w[o]·γ[o]/√(σ²[o]+ε),   b'[o] = β[o] − μ[o]·γ[o]/√(σ²[o]+ε).
    func foldedBatchNorm(_ name: String, _ bn: String, shape: [Int], epsilon: Float) throws(EncoderError) -> (weight: Tensor, bias: Tensor) {
        let c = shape[0]
        let weight = try pp(name).tensor("weight", shape: shape)
        let norm = pp(bn)
        let gamma = try norm.tensor("weight", shape: [c]), beta = try norm.tensor("bias", shape: [c])
        let mean = try norm.tensor("running_mean", shape: [c]), variance = try norm.tensor("running_var", shape: [c])
        norm.ignore("num_batches_tracked")
        let perOut = weight.count / c
        var w = weight.toArray()
        var b = [Float](repeating: 0, count: c)
        for o in 0..<c {
            let scale = gamma[o] / (variance[o] + epsilon).squareRoot()
            for j in 0..<perOut { w[o * perOut + j] *= scale }
            b[o] = beta[o] - mean[o] * scale
        }
        do { return (try Tensor(shape: shape, values: w), try Tensor(shape: [c], values: b)) } catch { throw .tensor(error) }
    }

    /// `foldedBatchNorm` as a dense convolution packed for `Ops.conv2d`.
    func convolution(_ name: String, batchNorm bn: String, shape: [Int], epsilon: Float) throws(EncoderError) -> ConvWeights {
        let (w, b) = try foldedBatchNorm(name, bn, shape: shape, epsilon: epsilon)
        return try convolution(weight: w, bias: b)
    }
}
