import Testing
@testable import Service

@Suite struct VectorEncodingTests {
    @Test func truncatesThenNormalises() {
        let shaped = VectorEncoding.shape([3, 4, 12], dimensions: 2, normalize: true)
        #expect(shaped == [0.6, 0.8])
    }

    @Test func keepsEverythingWhenDimensionsIsZero() {
        #expect(VectorEncoding.shape([3, 4], dimensions: 0, normalize: false) == [3, 4])
        #expect(VectorEncoding.shape([0, 0], dimensions: 0, normalize: true) == [0, 0])
    }

    @Test func int8UsesTheLargestMagnitudeAsScale() {
        let (codes, scale) = VectorEncoding.int8([0.5, -1.0, 0.25, 0])
        #expect(scale == 1.0 / 127)
        #expect(codes == [64, -127, 32, 0])
    }

    @Test func binaryPacksSignBitsMostSignificantFirst() {
        // Positive at 0, 2, 7 and 8: 0b1010_0001, 0b1000_0000.
        let vector: [Float] = [1, -1, 2, 0, -3, -1, -2, 0.5, 0.1]
        #expect(VectorEncoding.binary(vector) == [0b1010_0001, 0b1000_0000])
    }
}
