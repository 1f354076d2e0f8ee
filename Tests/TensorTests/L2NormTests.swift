import Testing
@testable import Tensor
import TestSupport

/// `Ops.l2Norm` and `Ops.l2Normalized` over the whole float32 range: huge and tiny components are scaled by
/// max|vᵢ| first, so no square overflows to infinity or underflows to zero.
@Suite struct L2NormTests {
    /// ‖v‖₂ in double precision: the reference (no float32 square can overflow or underflow a Double).
    func referenceNorm(_ v: [Float]) -> Double {
        v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    func expectUnit(_ v: [Float], _ expected: [Float], tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
        let got = Ops.l2Normalized(v)
        #expect(got.count == expected.count, sourceLocation: sourceLocation)
        for (g, e) in zip(got, expected) {
            #expect(abs(g - e) <= tolerance, "\(v) normalised to \(got), expected \(expected)", sourceLocation: sourceLocation)
        }
    }

    @Test func ordinaryVectorsByHand() {
        #expect(Ops.l2Norm([3, 4]) == 5)
        expectUnit([3, 4], [0.6, 0.8])
        expectUnit([0, -2, 0, 0], [0, -1, 0, 0])
    }

    @Test func hugeComponentsDoNotOverflow() {
        // Each square (1e40) is past Float.greatestFiniteMagnitude (3.4e38).
        #expect(Ops.l2Norm([Float](repeating: 1e20, count: 4)) == 2e20)
        expectUnit([Float](repeating: 1e20, count: 4), [0.5, 0.5, 0.5, 0.5])
        expectUnit([1e30, 0, 0, 0], [1, 0, 0, 0])
        expectUnit([-3e38, 3e38], [-0.70710677, 0.70710677])
        // A norm past the float32 range is infinite, but the direction still normalises.
        #expect(Ops.l2Norm([3e38, 3e38]) == .infinity)
    }

    @Test func tinyComponentsDoNotUnderflow() {
        // Each square (1e-60) is below the smallest subnormal float (1.4e-45).
        #expect(abs(Ops.l2Norm([1e-30, 1e-30, 1e-30, 1e-30]) - 2e-30) <= 2e-36)
        expectUnit([Float](repeating: 1e-30, count: 4), [0.5, 0.5, 0.5, 0.5])
        // 1e-45 is the subnormal 2⁻¹⁴⁹, whose reciprocal is past the float32 range: scaling divides by it.
        let smallest = Float.leastNonzeroMagnitude
        #expect(Float(1e-45 as Double) == smallest)
        #expect(Ops.l2Norm([smallest, 0, 0, 0]) == smallest)
        expectUnit([Float(1e-45 as Double), 0, 0, 0], [1, 0, 0, 0])
        expectUnit([0, -smallest, smallest, 0], [0, -0.70710677, 0.70710677, 0])
    }

    @Test func mixedMagnitudesKeepTheirDirection() {
        // The largest component decides; much smaller ones are kept where float32 can hold them.
        for v: [Float] in [[1e20, 3e19, -4e19, 1], [1e-30, 2e-31, 0, -5e-31], [3, 4e-20, 0x1p-133, 0], [1e25, 1e-25, 0, 2e24]] {
            let norm = referenceNorm(v)
            let expected = v.map { Float(Double($0) / norm) }
            expectUnit(v, expected)
            #expect(abs(Double(Ops.l2Norm(v)) - norm) <= norm * 1e-6, "\(v)")
            let unit = Ops.l2Normalized(v)
            #expect(abs(referenceNorm(unit) - 1) <= 1e-6, "\(v)")
        }
    }

    @Test func ordinaryVectorsAreNormalisedExactlyAsBefore() {
        // Inside the unscaled range the result is bit for bit v · (1 / √Σvᵢ²): golden vectors do not move.
        var random = SeededRandom(seed: 7)
        for d in [1, 4, 384, 768] {
            let v = (0..<d).map { _ in random.float(scale: 3) }
            var sum: Float = 0
            for x in v { sum += x * x }
            let inv = 1 / sum.squareRoot()
            #expect(Ops.l2Normalized(v) == v.map { $0 * inv })
        }
    }

    @Test func zeroNaNAndInfinityComeBackUnchanged() {
        #expect(Ops.l2Norm([0, 0, 0]) == 0)
        #expect(Ops.l2Normalized([0, 0, 0]) == [0, 0, 0])
        #expect(Ops.l2Normalized([]) == [])
        #expect(Ops.l2Norm([1, .nan]).isNaN)
        #expect(Ops.l2Norm([0, .nan]).isNaN)
        #expect(Ops.l2Norm([1e30, .nan]).isNaN)
        for v: [Float] in [[1, .nan, 2], [0, .nan], [1e30, .nan], [0x1p-133, .nan]] {
            let got = Ops.l2Normalized(v)
            #expect(zip(got, v).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(v) came back as \(got)")
        }
        #expect(Ops.l2Norm([.infinity, 1]) == .infinity)
        #expect(Ops.l2Normalized([.infinity, 1]) == [.infinity, 1])
        #expect(Ops.l2Normalized([-.infinity, 1e30]) == [-.infinity, 1e30])
    }
}
