import Foundation

/// Naive, obviously-correct versions of the ops, for tests (candle's device tests, ggml's test-backend-ops):
/// plain loops, Double accumulation, libm `exp`/`erf`, and attention with an explicit additive padding mask as
/// HF transformers builds it. Slow by design; never used on a serving path.
public enum Reference {
    /// C = A·B (or A·Bᵀ).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false) -> Tensor {
        let (m, k) = (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        let c = Tensor(zeros: [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[i, p]) * Double(transposeB ? b[j, p] : b[p, j]) }
                c[i, j] = Float(acc)
            }
        }
        return c
    }

    /// y = x·Wᵀ + b.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let y = matmul(x, weight, transposeB: true)
        if let bias {
            for i in 0..<y.shape[0] { for j in 0..<y.shape[1] { y[i, j] += bias[j] } }
        }
        return y
    }

    public static func gelu(_ x: Tensor) -> Tensor {
        let y = x.copy()
        for i in 0..<y.shape[0] {
            for j in 0..<y.shape[1] {
                let v = Double(x[i, j])
                y[i, j] = Float(v * 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())))
            }
        }
        return y
    }

    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float) -> Tensor {
        let y = x.copy()
        let d = x.shape[1]
        for i in 0..<x.shape[0] {
            var mean = 0.0
            for j in 0..<d { mean += Double(x[i, j]) }
            mean /= Double(d)
            var variance = 0.0
            for j in 0..<d { variance += (Double(x[i, j]) - mean) * (Double(x[i, j]) - mean) }
            variance /= Double(d)
            for j in 0..<d {
                y[i, j] = Float((Double(x[i, j]) - mean) / (variance + Double(eps)).squareRoot()
                    * Double(gamma[j]) + Double(beta[j]))
            }
        }
        return y
    }

    public static func softmaxRows(_ x: Tensor) -> Tensor {
        let y = x.copy()
        for i in 0..<x.shape[0] {
            var m = -Double.infinity
            for j in 0..<x.shape[1] { m = max(m, Double(x[i, j])) }
            var sum = 0.0
            for j in 0..<x.shape[1] { sum += Foundation.exp(Double(x[i, j]) - m) }
            for j in 0..<x.shape[1] { y[i, j] = Float(Foundation.exp(Double(x[i, j]) - m) / sum) }
        }
        return y
    }

    /// Multi-head attention on a padded batch q, k, v [batch·paddedLength, dModel] with an additive mask, as HF
    /// transformers builds it: scores of keys at positions >= lengths[b] get -Float.greatestFiniteMagnitude
    /// (finfo(float32).min). Output rows of padded queries are meaningless in HF and ignored by callers; here
    /// they are left 0.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, nHeads: Int, lengths: [Int],
                                 paddedLength: Int) -> Tensor {
        let dModel = q.shape[1], headDim = dModel / nHeads
        let out = Tensor(zeros: q.shape)
        let scale = 1 / Double(headDim).squareRoot()
        for (b, len) in lengths.enumerated() {
            let base = b * paddedLength
            for h in 0..<nHeads {
                for i in 0..<len {
                    var scores = [Double](repeating: 0, count: paddedLength)
                    for j in 0..<paddedLength {
                        var dot = 0.0
                        for c in 0..<headDim {
                            dot += Double(q[base + i, h * headDim + c]) * Double(k[base + j, h * headDim + c])
                        }
                        scores[j] = dot * scale + (j < len ? 0 : -Double(Float.greatestFiniteMagnitude))
                    }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for c in 0..<headDim {
                        var acc = 0.0
                        for j in 0..<paddedLength { acc += e[j] / sum * Double(v[base + j, h * headDim + c]) }
                        out[base + i, h * headDim + c] = Float(acc)
                    }
                }
            }
        }
        return out
    }
}
