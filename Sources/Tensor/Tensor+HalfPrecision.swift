/// float32 tensors widened from half-precision checkpoint data (safetensors F16/BF16, CTranslate2 float16).
///
/// Here rather than in the loaders: this module is compiled for the build machine's CPU, where a float16 ->
/// float32 conversion is one F16C instruction; elsewhere it is a library call per value (~10x slower on the
/// 38M weights of Whisper tiny). The values are written straight into the tensor, with no intermediate array.
extension Tensor {
    /// `shape.reduce(1, *)` little-endian IEEE float16 values at `raw` (any alignment), widened.
    public init(shape: [Int], float16 raw: UnsafeRawPointer) {
        self.init(zeros: shape)
        let p = pointer
        for i in 0..<shape.reduce(1, *) {
            p[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        }
    }

    /// `shape.reduce(1, *)` little-endian bfloat16 values at `raw` (any alignment), widened.
    public init(shape: [Int], bfloat16 raw: UnsafeRawPointer) {
        self.init(zeros: shape)
        let p = pointer
        for i in 0..<shape.reduce(1, *) {
            p[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        }
    }
}
