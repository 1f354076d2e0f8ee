import Foundation
import Testing
import TestSupport
@testable import Tensor

@Suite struct OpsTests {
    // MARK: Hand-worked values

    @Test func matmulSmallByHand() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        let c = Tensor(zeros: [2, 2])
        try Ops.matmul(a, b, into: c)
        #expect(c.toArray() == [58, 64, 139, 154])
    }

    @Test func linearIsXTimesWeightTransposedPlusBias() throws {
        let x = try Tensor(shape: [1, 2], values: [1, 2])
        let w = try Tensor(shape: [3, 2], values: [1, 0, 0, 1, 1, 1])  // [dOut, dIn]
        let b = try Tensor(shape: [3], values: [10, 20, 30])
        let y = Tensor(zeros: [1, 3])
        try Ops.linear(x, weight: w, bias: b, into: y)
        #expect(y.toArray() == [11, 22, 33])
    }

    @Test func layerNormByHand() throws {
        // Row [1, 2, 3, 4, ...] of 16: mean 8.5, var = (16² - 1) / 12 = 21.25.
        let x = try Tensor(shape: [1, 16], values: (1...16).map(Float.init))
        let gamma = try Tensor(shape: [16], values: [Float](repeating: 2, count: 16))
        let beta = try Tensor(shape: [16], values: [Float](repeating: 1, count: 16))
        let y = Tensor(zeros: [1, 16])
        try Ops.layerNorm(x, gamma: gamma, beta: beta, eps: 0, into: y)
        let expected = (1...16).map { Float((Double($0) - 8.5) / 21.25.squareRoot() * 2 + 1) }
        for (got, want) in zip(y.toArray(), expected) { #expect(abs(got - want) < 1e-5) }
    }

    @Test func geluByHand() throws {
        // gelu(0) = 0, gelu(1) = Φ(1) = 0.841344746, gelu(-1) = -0.158655254, gelu(3) = 2.995950
        let x = try Tensor(shape: [1, 4], values: [0, 1, -1, 3])
        let y = Tensor(zeros: [1, 4])
        try Ops.gelu(x, into: y)
        let expected: [Float] = [0, 0.841_344_746, -0.158_655_254, 2.995_949_5]
        for (got, want) in zip(y.toArray(), expected) { #expect(abs(got - want) < 2e-6) }
    }

    @Test func softmaxByHand() throws {
        let x = try Tensor(shape: [2, 3], values: [0, 0, 0, 1, 2, 3])
        try Ops.softmaxRows(x)
        let e = [1, M_E, M_E * M_E].map { $0 / (1 + M_E + M_E * M_E) }
        let expected: [Float] = [1.0 / 3, 1.0 / 3, 1.0 / 3] + e.map(Float.init)
        for (got, want) in zip(x.toArray(), expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func attentionWithOneKeyReturnsItsValue() throws {
        // One token: softmax over a single key is 1, so the output is V.
        let q = try Tensor(shape: [1, 4], values: [1, 2, 3, 4])
        let v = try Tensor(shape: [1, 4], values: [5, 6, 7, 8])
        let out = Tensor(zeros: [1, 4])
        try Ops.attention(q: q, k: q, v: v, nHeads: 2, segments: [0..<1], scores: Tensor(zeros: [1]), into: out)
        #expect(out.toArray() == [5, 6, 7, 8])
    }

    @Test func embeddingLookupCopiesRowsAndRejectsBadIds() throws {
        let table = try Tensor(shape: [3, 2], values: [0, 1, 10, 11, 20, 21])
        let out = Tensor(zeros: [2, 2])
        try Ops.embeddingLookup(table, ids: [2, 0], into: out)
        #expect(out.toArray() == [20, 21, 0, 1])
        #expect(throws: TensorError.indexOutOfRange(op: "embeddingLookup", index: 3, bound: 3)) {
            try Ops.embeddingLookup(table, ids: [3, 0], into: out)
        }
    }

    @Test func addAndBias() throws {
        let a = try Tensor(shape: [2, 17], values: (0..<34).map(Float.init))
        let out = Tensor(zeros: [2, 17])
        try Ops.add(a, a, into: out)
        #expect(out.toArray() == (0..<34).map { Float(2 * $0) })
        let bias = try Tensor(shape: [17], values: [Float](repeating: 1, count: 17))
        try Ops.addBias(a, bias, into: out)
        #expect(out.toArray() == (0..<34).map { Float($0 + 1) })
    }

    // MARK: Errors carry shapes

    @Test func matmulRejectsMismatchedInnerDimension() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 2])
        #expect(throws: TensorError.incompatibleShapes(op: "matmul", lhs: [2, 3], rhs: [4, 2])) {
            try Ops.matmul(a, b, into: Tensor(zeros: [2, 2]))
        }
        #expect(throws: TensorError.shapeMismatch(op: "matmul", expected: [2, 2], actual: [2, 3])) {
            try Ops.matmul(a, Tensor(zeros: [3, 2]), into: Tensor(zeros: [2, 3]))
        }
    }

    // MARK: Optimised vs reference

    @Test(arguments: [(1, 1, 1), (7, 5, 3), (16, 384, 384), (33, 96, 130)])
    func matmulMatchesReference(m: Int, n: Int, k: Int) throws {
        var rng = SeededRandom(seed: UInt64(m * 1000 + n * 10 + k))
        let a = rng.tensor([m, k]), b = rng.tensor([k, n]), bt = rng.tensor([n, k])
        let c = Tensor(zeros: [m, n])
        try Ops.matmul(a, b, into: c)
        #expect(maxAbsDifference(c, Reference.matmul(a, b)) < 1e-4)
        try Ops.matmul(a, bt, transposeB: true, into: c)
        #expect(maxAbsDifference(c, Reference.matmul(a, bt, transposeB: true)) < 1e-4)
    }

    @Test func linearOnStridedViewsMatchesReference() throws {
        var rng = SeededRandom(seed: 7)
        let wide = rng.tensor([5, 24])
        let x = try wide.columns(8..<16)  // row stride 24
        let w = rng.tensor([12, 8]), b = rng.tensor([12])
        let y = Tensor(zeros: [5, 12])
        try Ops.linear(x, weight: w, bias: b, into: y)
        #expect(maxAbsDifference(y, Reference.linear(x.copy(), weight: w, bias: b)) < 1e-5)
    }

    @Test(arguments: [1, 2, 3])
    func preparedLinearWithWorkersMatchesReference(workers: Int) throws {
        var rng = SeededRandom(seed: 17)
        let x = rng.tensor([9, 40]), w = rng.tensor([70, 40]), b = rng.tensor([70])
        let layer = try LinearWeights(weight: w, bias: b)
        #expect(layer.dIn == 40 && layer.dOut == 70)
        #expect(layer.packed?.shape == [5, 40, 16])  // 70 columns: the last panel zero-padded
        let y = Tensor(zeros: [9, 70])
        try Ops.linear(x, layer, workers: workers, into: y)
        let expected = Reference.linear(x, weight: w, bias: b)
        #expect(maxAbsDifference(y, expected) < 1e-5)
        try Ops.linear(x, layer, activation: .gelu, workers: workers, into: y)
        #expect(maxAbsDifference(y, Reference.gelu(expected)) < 1e-5)
        try Ops.linear(x, weight: w, bias: nil, workers: workers, into: y)
        #expect(maxAbsDifference(y, Reference.linear(x, weight: w, bias: nil)) < 1e-5)
    }

    /// The packed kernel (PackedGEMM) against the reference, for every remainder of its 6-row tiles and for
    /// several cache tiles of rows; deeper than `PackedGEMM.depthBlock`, in two and three blocks of depth.
    @Test(arguments: [40, PackedGEMM.depthBlock + 64, 2 * PackedGEMM.depthBlock + 7])
    func packedLinearMatchesReference(depth: Int) throws {
        var rng = SeededRandom(seed: 23)
        let w = rng.tensor([96, depth]), b = rng.tensor([96])
        let layer = try LinearWeights(weight: w, bias: b)
        #expect(layer.packed?.shape == [6, depth, 16])
        #expect(layer.packed?[1, 2, 5] == w[16 + 5, 2])
        let tolerance = 1e-6 * Float(depth)
        for rows in Array(1...13) + [16, 130] {
            let x = rng.tensor([rows, depth])
            for workers in [1, 2] {
                let y = Tensor(zeros: [rows, 96])
                try Ops.linear(x, layer, workers: workers, into: y)
                #expect(maxAbsDifference(y, Reference.linear(x, weight: w, bias: b)) < tolerance, "rows \(rows)")
            }
            let noBias = try LinearWeights(weight: w, bias: nil)
            let y = Tensor(zeros: [rows, 96])
            y.pointer.update(repeating: Float.nan, count: y.count)  // must be overwritten, not accumulated into
            try Ops.linear(x, noBias, into: y)
            #expect(maxAbsDifference(y, Reference.linear(x, weight: w, bias: nil)) < tolerance, "rows \(rows)")
        }
    }

    /// Both register tiles — 6 × 16 (AVX2) and, where the CPU has AVX-512, 8 × 32 over panel pairs — against the
    /// reference: every row remainder of either tile, pairs and a lone last panel, partial last panels (70
    /// columns; a column range starting at panel 1), ReLU6 and a residual, and products deeper than a block.
    @Test(arguments: [40, PackedGEMM.depthBlock + 64])
    func bothRegisterTilesMatchReference(depth: Int) throws {
        var rng = SeededRandom(seed: 31)
        let (n, tolerance) = (70, 1e-6 * Float(depth))
        let w = rng.tensor([n, depth]), b = rng.tensor([n])
        let packed = try #require(try LinearWeights(weight: w, bias: b).packed)
        for wide in PackedGEMM.wide ? [false, true] : [false] {
            for rows in Array(1...17) + [130] {
                let x = rng.tensor([rows, depth]), residual = rng.tensor([rows, n])
                expectPackedGEMM(packed, x: x, product: Reference.linear(x, weight: w, bias: b).toArray(), residual: residual,
                                 columnRanges: [0..<n, 16..<n, 16..<48], tolerance: tolerance, wide: wide, "wide \(wide)")
            }
        }
    }

    /// float16 weights packed as float16 panels give exactly the products of the same weights widened at load,
    /// at every tile remainder, over several cache tiles and blocks of depth, and with workers.
    @Test(arguments: [40, PackedGEMM.depthBlock, PackedGEMM.depthBlock + 64])
    func float16LinearMatchesWidenedWeights(depth: Int) throws {
        var rng = SeededRandom(seed: 29)
        let half = rng.tensor([70, depth]).toArray().map { Float16($0).bitPattern }
        let w = half.withUnsafeBytes { Tensor(shape: [70, depth], float16: $0.baseAddress!) }
        let b = rng.tensor([70])
        let layer = try half.withUnsafeBytes { raw throws(TensorError) in
            try LinearWeights(float16: raw.baseAddress!, dOut: 70, dIn: depth, bias: b)
        }
        let widened = try LinearWeights(weight: w, bias: b)
        #expect(layer.dIn == depth && layer.dOut == 70)
        #expect(layer.packed?.shape == [5, depth, 16])
        #expect(layer.packed?[4, depth - 1, 5] == w[64 + 5, depth - 1])
        #expect(layer.packed?[4, 0, 6] == 0)  // padding
        for rows in Array(1...7) + [13, 300] {
            let x = rng.tensor([rows, depth])
            for workers in [1, 2] {
                let y = Tensor(zeros: [rows, 70]), expected = Tensor(zeros: [rows, 70])
                try Ops.linear(x, layer, activation: .gelu, workers: workers, into: y)
                try Ops.linear(x, widened, activation: .gelu, workers: workers, into: expected)
                #expect(y.toArray() == expected.toArray(), "rows \(rows), workers \(workers)")
            }
        }
    }

    @Test func transposedCopy() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]).transposedCopy()
        #expect(t.shape == [3, 2])
        #expect(t.toArray() == [1, 4, 2, 5, 3, 6])
    }

    @Test func elementwiseOpsMatchReference() throws {
        var rng = SeededRandom(seed: 11)
        let x = rng.tensor([9, 48], scale: 6)
        let gamma = rng.tensor([48]), beta = rng.tensor([48])
        let y = Tensor(zeros: [9, 48])
        try Ops.gelu(x, into: y)
        #expect(maxAbsDifference(y, Reference.gelu(x)) < 2e-6)
        try Ops.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12, into: y)
        #expect(maxAbsDifference(y, Reference.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12)) < 1e-5)
        let r = rng.tensor([9, 48])
        let sum = Tensor(zeros: [9, 48])
        try Ops.add(x, r, into: sum)
        try Ops.layerNorm(x, residual: r, gamma: gamma, beta: beta, eps: 1e-5, into: y)
        #expect(maxAbsDifference(y, Reference.layerNorm(sum, gamma: gamma, beta: beta, eps: 1e-5)) < 1e-5)
        for cols in [1, 5, 16, 37] {
            let s = rng.tensor([3, cols], scale: 20)
            let expected = Reference.softmaxRows(s)
            try Ops.softmaxRows(s)
            #expect(maxAbsDifference(s, expected) < 1e-6)
        }
    }

    @Test func vectorExpAndErfAreAccurate() {
        var worstExp: Float = 0, worstErf: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = vexp(Vec16(repeating: x))[0]
            worstExp = max(worstExp, abs(v - Float(Foundation.exp(Double(x)))) / Float(Foundation.exp(Double(x))))
            x += 0.173
        }
        x = -6
        while x < 6 {
            worstErf = max(worstErf, abs(verf(Vec16(repeating: x))[0] - Float(Foundation.erf(Double(x)))))
            x += 0.0071
        }
        #expect(worstExp < 3e-7)
        #expect(worstErf < 5e-7)  // ~3 ulp near ±1
        #expect(vexp(Vec16(repeating: -.infinity))[0] == 0)
    }

    @Test func paddedAttentionMatchesReferenceWithAdditiveMask() throws {
        var rng = SeededRandom(seed: 3)
        let (nHeads, dModel, paddedLength) = (4, 32, 9)
        let lengths = [9, 4, 1, 6]
        let tokens = lengths.count * paddedLength
        // Q, K, V as views inside one fused [tokens, 3·dModel] matrix, as BERT uses them.
        let qkv = rng.tensor([tokens, 3 * dModel])
        let (q, k, v) = (try qkv.columns(0..<dModel), try qkv.columns(dModel..<2 * dModel),
                         try qkv.columns(2 * dModel..<3 * dModel))
        let expected = Reference.attention(q: q.copy(), k: k.copy(), v: v.copy(), nHeads: nHeads,
                                           lengths: lengths, paddedLength: paddedLength)
        for workers in [1, 2, 3] {
            let out = Tensor(zeros: [tokens, dModel])
            try Ops.attention(q: q, k: k, v: v, nHeads: nHeads,
                              segments: Ops.paddedSegments(lengths: lengths, paddedLength: paddedLength),
                              scores: Tensor(zeros: [workers * paddedLength * paddedLength]), workers: workers, into: out)
            #expect(maxAbsDifference(out, expected) < 1e-5)
        }
    }

    /// headDim 32 takes the direct kernel up to `directMaxLength` tokens: every remainder of its four-row groups
    /// (lengths 1–9), a score row wider than one vector (17, 33) up to the longest (255), and two SGEMMs per head
    /// beyond (262).
    @Test(arguments: [[1, 2, 3, 4], [5, 6, 7, 8, 9], [17, 33, Ops.directMaxLength - 1, Ops.directMaxLength + 6]])
    func attentionMatchesReferenceForEveryLength(lengths: [Int]) throws {
        var rng = SeededRandom(seed: 11)
        let (nHeads, dModel) = (3, 96)
        let paddedLength = lengths.max() ?? 0
        let tokens = lengths.count * paddedLength
        let (q, k, v) = (rng.tensor([tokens, dModel]), rng.tensor([tokens, dModel]), rng.tensor([tokens, dModel]))
        let expected = Reference.attention(q: q, k: k, v: v, nHeads: nHeads, lengths: lengths, paddedLength: paddedLength)
        let out = Tensor(zeros: [tokens, dModel])
        try Ops.attention(q: q, k: k, v: v, nHeads: nHeads,
                          segments: Ops.paddedSegments(lengths: lengths, paddedLength: paddedLength),
                          scores: Tensor(zeros: [2 * paddedLength * paddedLength]), workers: 2, into: out)
        #expect(maxAbsDifference(out, expected) < 1e-5)
    }

    @Test func packedAttentionEqualsPadded() throws {
        var rng = SeededRandom(seed: 5)
        let lengths = [3, 7, 2]
        let dModel = 16
        let packed = rng.tensor([lengths.reduce(0, +), dModel])
        let padded = Tensor(zeros: [lengths.count * 7, dModel])
        for (b, seg) in Ops.packedSegments(lengths: lengths).enumerated() {
            for (i, row) in seg.enumerated() { for c in 0..<dModel { padded[b * 7 + i, c] = packed[row, c] } }
        }
        let outPacked = Tensor(zeros: packed.shape), outPadded = Tensor(zeros: padded.shape)
        let scores = Tensor(zeros: [49])
        try Ops.attention(q: packed, k: packed, v: packed, nHeads: 2,
                          segments: Ops.packedSegments(lengths: lengths), scores: scores, into: outPacked)
        try Ops.attention(q: padded, k: padded, v: padded, nHeads: 2,
                          segments: Ops.paddedSegments(lengths: lengths, paddedLength: 7), scores: scores,
                          into: outPadded)
        for (b, seg) in Ops.packedSegments(lengths: lengths).enumerated() {
            for (i, row) in seg.enumerated() {
                for c in 0..<dModel { #expect(abs(outPacked[row, c] - outPadded[b * 7 + i, c]) < 1e-6) }
            }
        }
    }

    /// Tests run concurrently and call OpenBLAS from many threads at once: it must stay single-threaded (`BLAS`).
    @Test func blasRunsSingleThreaded() {
        #expect(BLAS.threadCount == 1)
        #expect(!BLAS.coreName.isEmpty)
    }
}
