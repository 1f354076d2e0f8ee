/// float32 tensors widened from half-precision checkpoint data (safetensors F16/BF16, CTranslate2 float16).
///
/// Here rather than in the loaders: this module is compiled for the build machine's CPU, where a float16 ->
/// float32 conversion is one F16C instruction; elsewhere it is a library call per value (measured:
/// bench/startup/README.md). The values are written straight into the tensor, with no intermediate array.
extension Tensor {
    /// `shape.reduce(1, *)` little-endian IEEE float16 values at `raw` (any alignment), widened.
    public init(shape: [Int], float16 raw: UnsafeRawPointer) {
        self.init(zeros: shape)
        let p = pointer
        for i in 0..<shape.reduce(1, *) {
            p[i] = Float(Float16(bitPattern: halfBits(raw, i)))
        }
    }

    /// `shape.reduce(1, *)` little-endian bfloat16 values at `raw` (any alignment), widened.
    public init(shape: [Int], bfloat16 raw: UnsafeRawPointer) {
        self.init(zeros: shape)
        let p = pointer
        for i in 0..<shape.reduce(1, *) {
            p[i] = Float(bitPattern: UInt32(halfBits(raw, i)) << 16)
        }
    }
}

/// The little-endian 16-bit value `i` at `raw` (any alignment): a float16 or bfloat16 bit pattern.
@inline(__always)
func halfBits(_ raw: UnsafeRawPointer, _ i: Int) -> UInt16 {
    UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
}

/// Owned float16 or bfloat16 bit patterns (written only while the table or weight holding them is built).
final class HalfBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt16>

    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}

/// Eight float16 bit patterns at `p` (any alignment) widened to float32 (one F16C instruction).
@inline(__always)
func widen8(_ p: UnsafePointer<UInt16>) -> Vec8 {
    let bits = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)
    return Vec8(unsafeBitCast(bits, to: SIMD8<Float16>.self))
}

/// `count` (a multiple of 8) float16 bit patterns widened into `out`.
@inline(__always)
func widen(_ half: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in stride(from: 0, to: count, by: 8) { store8(widen8(half + i), out + i) }
}
