import Tensor

/// Post-processing of a pooled vector as the request asks: Matryoshka truncation, L2 normalisation and the
/// wire encodings documented in common.proto (Encoding).
public enum VectorEncoding {
    /// Keeps the first `dimensions` values (0 keeps all) and, when `normalize`, scales to unit length.
    public static func shape(_ vector: [Float], dimensions: Int, normalize: Bool) -> [Float] {
        let values = dimensions > 0 && dimensions < vector.count ? Array(vector.prefix(dimensions)) : vector
        return normalize ? Ops.l2Normalized(values) : values
    }

    /// Symmetric per-vector int8 (`Ops.int8Quantized`): v[i] ~= codes[i] * scale.
    public static func int8(_ vector: [Float]) -> (codes: [Int8], scale: Float) {
        Ops.int8Quantized(vector)
    }

    /// Sign bits, most significant bit first: bit i is set when v[i] > 0. ceil(d / 8) bytes.
    public static func binary(_ vector: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (vector.count + 7) / 8)
        for (i, value) in vector.enumerated() where value > 0 {
            bytes[i >> 3] |= 0x80 >> UInt8(i & 7)
        }
        return bytes
    }
}
