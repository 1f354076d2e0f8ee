import Testing
import TestSupport

@testable import Tensor

/// A float16 table answers as its widened float32 copy does: lookups exactly, the tied projection to float32
/// rounding; and it refuses what the float32 one refuses.
@Suite struct EmbeddingTableTests {
    /// A float16 table of `rows × cols` random values, and the same values widened to a float32 tensor.
    func tables(rows: Int, cols: Int, seed: UInt64) throws -> (half: EmbeddingTable, widened: EmbeddingTable, values: Tensor) {
        var rng = SeededRandom(seed: seed)
        let bits = (0..<rows * cols).map { _ in Float16(rng.float(scale: 2)).bitPattern.littleEndian }
        let values = try Tensor(shape: [rows, cols], values: bits.map { Float(Float16(bitPattern: $0)) })
        let half = bits.withUnsafeBytes { EmbeddingTable(rows: rows, cols: cols, float16: $0.baseAddress!) }
        return (half, try EmbeddingTable(values), values)
    }

    @Test func lookupsWidenTheStoredValuesExactly() throws {
        let (half, widened, _) = try tables(rows: 50, cols: 37, seed: 1)
        let ids: [Int32] = [0, 49, 7, 7, 23]
        let a = Tensor(zeros: [ids.count, 37]), b = Tensor(zeros: [ids.count, 37])
        try half.lookup(ids, into: a)
        try widened.lookup(ids, into: b)
        #expect(a.toArray() == b.toArray())
    }

    @Test func theTiedProjectionMatchesFloat32() throws {
        // 384 columns (Whisper's width: the 16-lane loop only) and 37 (a scalar tail); rows not a multiple of 8.
        for (rows, cols) in [(1003, 384), (61, 37)] {
            let (half, widened, values) = try tables(rows: rows, cols: cols, seed: 2)
            var rng = SeededRandom(seed: 3)
            let x = rng.tensor([1, cols])
            let a = Tensor(zeros: [1, rows]), b = Tensor(zeros: [1, rows])
            try half.product(x, workers: 2, into: a)
            try widened.product(x, into: b)
            #expect(maxAbsDifference(a, b) < 1e-4)
            #expect(maxAbsDifference(a, Reference.linear(x, weight: values, bias: nil)) < 1e-4)
        }
    }

    @Test func refusesIdsOutsideTheTableAndMisshapenOperands() throws {
        let (half, _, _) = try tables(rows: 10, cols: 8, seed: 4)
        #expect(throws: TensorError.self) { try half.lookup([10], into: Tensor(zeros: [1, 8])) }
        #expect(throws: TensorError.self) { try half.lookup([-1], into: Tensor(zeros: [1, 8])) }
        #expect(throws: TensorError.self) { try half.product(Tensor(zeros: [1, 7]), into: Tensor(zeros: [1, 10])) }
        #expect(throws: TensorError.self) { try half.product(Tensor(zeros: [1, 8]), into: Tensor(zeros: [1, 9])) }
    }
}
