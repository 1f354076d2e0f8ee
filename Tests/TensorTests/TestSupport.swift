import Testing
import TestSupport
@testable import Tensor

extension SeededRandom {
    /// A tensor of `shape` with values uniform in [-scale, scale), so failures reproduce.
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ in float(scale: scale) }
        return try! Tensor(shape: shape, values: values)
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.toArray(), b.toArray()).map { abs($0 - $1) }.max() ?? 0
}

/// `PackedGEMM.run` with ReLU6 and a residual over each column range, against `product` (x·Wᵀ + b, [rows, n]):
/// every column inside within `tolerance`, none outside written.
func expectPackedGEMM(_ packed: PackedWeights, x: Tensor, product: [Float], residual: Tensor,
                      columnRanges: [Range<Int>], tolerance: Float, wide: Bool = PackedGEMM.wide, _ label: String) {
    let (rows, depth, n) = (x.shape[0], x.shape[1], residual.shape[1])
    let expected = zip(product, residual.toArray()).map { min(max($0, 0), 6) + $1 }
    for columns in columnRanges {
        let y = Tensor(zeros: [rows, n])
        y.pointer.update(repeating: .nan, count: y.count)
        PackedGEMM.run(m: rows, columns: columns, a: x.pointer, lda: depth, weights: packed, activation: .relu6,
                       residual: residual.pointer + columns.lowerBound, ldr: n, c: y.pointer + columns.lowerBound,
                       ldc: n, wide: wide)
        for i in 0..<rows {
            for j in 0..<n {
                let value = y.pointer[i * n + j]
                if columns.contains(j) {
                    #expect(abs(value - expected[i * n + j]) < tolerance, "\(label), rows \(rows), [\(i), \(j)]")
                } else {
                    #expect(value.isNaN, "\(label): column \(j) outside \(columns) written")
                }
            }
        }
    }
}
