import Foundation
import Testing
import TestSupport
@testable import Tensor

/// The ops the Whisper encoder/decoder add: each against its naive reference.
@Suite struct AudioOpsTests {
    @Test func conv1dByHand() throws {
        // x [4, 1] = 1 2 3 4; w [1, 1, 3] = 1 0 -1; pad 1 -> y[t] = x[t-1] - x[t+1]
        let x = try Tensor(shape: [4, 1], values: [1, 2, 3, 4])
        let w = try Tensor(shape: [1, 1, 3], values: [1, 0, -1])
        let y = Tensor(zeros: [4, 1])
        try Ops.conv1d(x, weight: w, bias: nil, stride: 1, padding: 1, columns: Tensor(zeros: [12]), into: y)
        #expect(y.toArray() == [-2, -2, -2, 3])
    }

    @Test func conv1dMatchesReference() throws {
        var rng = SeededRandom(seed: 7)
        for (t, cIn, cOut, stride, workers) in [(17, 5, 8, 1, 1), (20, 6, 16, 2, 2), (9, 3, 4, 2, 3)] {
            let x = rng.tensor([t, cIn]), w = rng.tensor([cOut, cIn, 3]), b = rng.tensor([cOut])
            let tOut = (t + 2 - 3) / stride + 1
            let y = Tensor(zeros: [tOut, cOut])
            try Ops.conv1d(x, weight: w, bias: b, stride: stride, padding: 1, columns: Tensor(zeros: [tOut * cIn * 3]),
                           workers: workers, into: y)
            #expect(maxAbsDifference(y, Reference.conv1d(x, weight: w, bias: b, stride: stride, padding: 1)) < 1e-5)
        }
    }

    @Test func crossAndCausalAttentionMatchReference() throws {
        var rng = SeededRandom(seed: 11)
        for (n, m, causal, workers) in [(1, 30, nil, 1), (3, 7, nil, 2), (2, 5, 3, 1), (4, 4, 0, 2), (1, 9, 8, 3)] as [(Int, Int, Int?, Int)] {
            let q = rng.tensor([n, 24]), k = rng.tensor([m, 24]), v = rng.tensor([m, 24])
            let out = Tensor(zeros: [n, 24])
            try Ops.attention(query: q, keys: k, values: v, nHeads: 4, causalOffset: causal,
                              scores: Tensor(zeros: [workers * n * m]), workers: workers, into: out)
            let expected = Reference.attention(query: q, keys: k, values: v, nHeads: 4, causalOffset: causal)
            #expect(maxAbsDifference(out, expected) < 1e-5, "n \(n) m \(m) causal \(String(describing: causal))")
        }
    }
}
