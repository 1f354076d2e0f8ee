/// Post-processing of a pooled vector as the request asks: Matryoshka truncation, L2 normalisation and the
/// wire encodings documented in common.proto (Encoding).
public enum VectorEncoding {
    /// Keeps the first `dimensions` values (0 keeps all) and, when `normalize`, scales to unit length.
    public static func shape(_ vector: [Float], dimensions: Int, normalize: Bool) -> [Float] {
        var values = dimensions > 0 && dimensions < vector.count ? Array(vector.prefix(dimensions)) : vector
        if normalize {
            let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { values = values.map { $0 / norm } }
        }
        return values
    }

    /// Symmetric per-vector int8: q[i] = round(v[i] / scale), scale = max|v| / 127, so v[i] ~= q[i] * scale.
    /// A zero vector has scale 0 and codes 0.
    public static func int8(_ vector: [Float]) -> (codes: [Int8], scale: Float) {
        let maxMagnitude = vector.reduce(Float(0)) { max($0, abs($1)) }
        guard maxMagnitude > 0 else { return (Array(repeating: 0, count: vector.count), 0) }
        let scale = maxMagnitude / 127
        let codes = vector.map { Int8(max(-127, min(127, ($0 / scale).rounded()))) }
        return (codes, scale)
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
