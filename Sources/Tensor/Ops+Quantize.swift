extension Ops {
    /// Symmetric per-vector int8: q[i] = round(v[i] / scale), scale = max|v| / 127, so v[i] ~= q[i] * scale
    /// (rosetta.v1 `Encoding.INT8`, and the index's int8 storage). A zero vector has scale 0 and codes 0.
    public static func int8Quantized(_ v: [Float]) -> (codes: [Int8], scale: Float) {
        let maxMagnitude = v.reduce(Float(0)) { max($0, abs($1)) }
        guard maxMagnitude > 0 else { return (Array(repeating: 0, count: v.count), 0) }
        let scale = maxMagnitude / 127
        return (v.map { Int8(max(-127, min(127, ($0 / scale).rounded()))) }, scale)
    }
}
