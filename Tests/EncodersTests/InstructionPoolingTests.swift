import Encoders
import Testing

@Suite struct InstructionPoolingTests {
    // Three orthogonal "concepts" and a query close to the second.
    let tokens: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    let query: [Float] = [0.1, 0.9, 0.1]

    @Test func attentionIsASoftmaxThatFavoursTheTokenTheQueryNames() {
        let a = InstructionPooling(weight: 0.5, temperature: 0.1).attention(query: query, tokens: tokens)
        #expect(abs(a.reduce(0, +) - 1) < 1e-5)
        #expect(a[1] > 0.99, "the query is nearly token 1: \(a)")
        let flat = InstructionPooling(weight: 0.5, temperature: 100).attention(query: query, tokens: tokens)
        #expect(flat.allSatisfy { abs($0 - 1.0 / 3) < 0.01 }, "a hot softmax is nearly uniform: \(flat)")
    }

    @Test func thePriorShiftsAttentionTowardsWhatTheItemMostlyIs() {
        let pooling = InstructionPooling(weight: 1, temperature: 1)
        let equalQuery: [Float] = [1, 1, 0]
        let even = pooling.attention(query: equalQuery, tokens: tokens, prior: [0.5, 0.5, 0])
        let skewed = pooling.attention(query: equalQuery, tokens: tokens, prior: [0.9, 0.1, 0])
        #expect(abs(even[0] - even[1]) < 1e-5)
        #expect(skewed[0] > 0.85 && skewed[2] < 1e-6, "\(skewed)")
    }

    @Test func theWeightBlendsBetweenTheNativeAndTheAttendedVector() {
        let native: [Float] = [2, 0, 0]  // not normalised on purpose
        let kept = InstructionPooling(weight: 0, temperature: 0.01).pool(native: native, tokens: tokens, query: query)
        #expect(kept == [1, 0, 0])
        let picked = InstructionPooling(weight: 1, temperature: 0.01).pool(native: native, tokens: tokens, query: query)
        #expect(abs(picked[1] - 1) < 1e-4)
        let half = InstructionPooling(weight: 0.5, temperature: 0.01).pool(native: native, tokens: tokens, query: query)
        #expect(abs(half[0] - half[1]) < 1e-3 && abs(half.map { $0 * $0 }.reduce(0, +) - 1) < 1e-5, "\(half)")
    }

    @Test func noTokensGiveTheNativeVectorAndMeanIsThePlainMean() {
        let pooling = InstructionPooling(weight: 0.7, temperature: 0.05)
        #expect(pooling.pool(native: [0, 3, 4], tokens: [], query: query) == [0, 0.6, 0.8])
        let mean = InstructionPooling.mean([[2, 0, 0], [0, 0, 5]])
        #expect(abs(mean[0] - mean[2]) < 1e-6 && abs(mean[0] - Float(0.5).squareRoot()) < 1e-6)
    }

    @Test func conceptsTakeEveryViewsTopClassesWithTheirBestProbability() {
        let conse = ConSE(topK: 2, temperature: 1)
        // Whole image: class 0 dominates; a region shows class 3 clearly.
        let whole: [Float] = [5, 2, 0, 0]
        let region: [Float] = [-9, -9, 1, 6]
        let concepts = conse.concepts(views: [whole, region])
        #expect(concepts.map(\.index) == [3, 0, 1, 2], "by best probability: 0.993, 0.953, 0.047, 0.0067")
        #expect(abs(concepts.map(\.prior).reduce(0, +) - 1) < 1e-5)
    }
}
