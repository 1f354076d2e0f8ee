import Foundation
import Tensor

/// A CTranslate2 `model.bin` (the format `ctranslate2` converters write, binary versions 1–6), read directly:
/// the file is memory-mapped, variables are indexed by name, and float16/bfloat16 weights are widened to
/// float32 tensors on first use (`tensor(_:)`), so the engine computes in fp32 as the reference does
/// (compute_type float32).
///
/// Layout (little-endian): u32 binary version; (v ≥ 2) u16-length spec name; (v ≥ 3) u32 spec revision; u32
/// variable count; per variable: u16-length name (NUL-terminated), u8 rank, u32 × rank dims, then (v ≥ 4) u8
/// dtype + u32 byte count, or (v < 4) u8 item size + u32 byte count; raw bytes. Then (v ≥ 3) u32 alias count and
/// pairs of u16-length names (alias, target). dtypes: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16.
public final class CTranslate2Model: @unchecked Sendable {
    public enum DType: UInt8, Sendable { case float32 = 0, int8, int16, int32, float16, bfloat16 }

    public struct Variable: Sendable {
        public let name: String
        public let shape: [Int]
        public let dtype: DType
        let offset: Int
        let byteCount: Int
    }

    public let path: String
    public let version: UInt32
    public let specName: String
    public let revision: UInt32
    public let variables: [String: Variable]
    public let aliases: [String: String]
    private let data: Data

    public init(path: String) throws(EncoderError) {
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .invalidConfig(file: path, detail: "cannot read: \(error.localizedDescription)")
        }
        self.data = data
        var reader = Reader(data: data, file: path)
        version = try reader.u32()
        guard (1...6).contains(version) else {
            throw .invalidConfig(file: path, detail: "CTranslate2 binary version \(version), expected 1...6")
        }
        specName = version >= 2 ? try reader.string() : ""
        revision = version >= 3 ? try reader.u32() : 1
        let count = Int(try reader.u32())
        var variables: [String: Variable] = [:]
        for _ in 0..<count {
            let name = try reader.string()
            let rank = Int(try reader.u8())
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try reader.u32())) }
            let dtype: DType
            if version >= 4 {
                let code = try reader.u8()
                guard let d = DType(rawValue: code) else {
                    throw .invalidConfig(file: path, detail: "variable '\(name)': unknown dtype \(code)")
                }
                dtype = d
            } else {
                let itemSize = try reader.u8()
                guard let d: DType = [4: .float32, 2: .int16, 1: .int8][itemSize] else {
                    throw .invalidConfig(file: path, detail: "variable '\(name)': unknown item size \(itemSize)")
                }
                dtype = d
            }
            let byteCount = Int(try reader.u32())
            let itemSize = [DType.float32: 4, .int8: 1, .int16: 2, .int32: 4, .float16: 2, .bfloat16: 2][dtype]!
            guard byteCount == shape.reduce(1, *) * itemSize else {
                throw .invalidConfig(file: path, detail: "variable '\(name)' \(shape) \(dtype): \(byteCount) bytes")
            }
            let offset = reader.position
            try reader.skip(byteCount)
            variables[name] = Variable(name: name, shape: shape, dtype: dtype, offset: offset, byteCount: byteCount)
        }
        var aliases: [String: String] = [:]
        if version >= 3 && reader.remaining >= 4 {
            let n = Int(try reader.u32())
            for _ in 0..<n {
                let alias = try reader.string()
                aliases[alias] = try reader.string()
            }
        }
        self.variables = variables
        self.aliases = aliases
    }

    /// The variable called `name` (aliases followed).
    public func variable(_ name: String) throws(EncoderError) -> Variable {
        guard let v = variables[aliases[name] ?? name] else { throw .missingTensor(file: path, tensor: name) }
        return v
    }

    /// A float variable widened to an owned float32 tensor, its shape checked when `shape` is given.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws(EncoderError) -> Tensor {
        let v = try variable(name)
        if let expected, expected != v.shape {
            throw .shapeMismatch(file: path, tensor: name, expected: expected, actual: v.shape)
        }
        let count = v.shape.reduce(1, *)
        let shape = v.shape.isEmpty ? [1] : v.shape
        // Half precision (the weights of converted models) is widened by Tensor, straight into the tensor.
        switch v.dtype {
        case .float16: return data.withUnsafeBytes { Tensor(shape: shape, float16: $0.baseAddress! + v.offset) }
        case .bfloat16: return data.withUnsafeBytes { Tensor(shape: shape, bfloat16: $0.baseAddress! + v.offset) }
        default: break
        }
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + v.offset
            switch v.dtype {
            case .float32:
                for i in 0..<count { values[i] = base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
            case .float16, .bfloat16:
                break
            case .int8:
                for i in 0..<count { values[i] = Float(base.load(fromByteOffset: i, as: Int8.self)) }
            case .int16:
                for i in 0..<count { values[i] = Float(base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
            case .int32:
                for i in 0..<count { values[i] = Float(base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
            }
        }
        do { return try Tensor(shape: shape, values: values) } catch { throw .tensor(error) }
    }

    /// A float table [rows, cols] for token lookups and tied output projections: float16 data kept as it is
    /// (`EmbeddingTable`: half the memory of widening it), other types widened to float32.
    public func embeddingTable(_ name: String, shape expected: [Int]) throws(EncoderError) -> EmbeddingTable {
        let v = try variable(name)
        guard expected.count == 2, expected == v.shape else {
            throw .shapeMismatch(file: path, tensor: name, expected: expected, actual: v.shape)
        }
        if v.dtype == .float16 {
            return data.withUnsafeBytes { EmbeddingTable(rows: expected[0], cols: expected[1], float16: $0.baseAddress! + v.offset) }
        }
        let table = try tensor(name, shape: expected)
        do { return try EmbeddingTable(table) } catch { throw .tensor(error) }
    }

    /// The linear layer `weight` [dOut, dIn], `bias` [dOut]: float16 weights stay float16 (`LinearWeights`
    /// packs them as they are), other types are widened to float32.
    public func linear(weight: String, bias: String, dOut: Int, dIn: Int) throws(EncoderError) -> LinearWeights {
        let w = try variable(weight)
        guard w.shape == [dOut, dIn] else {
            throw .shapeMismatch(file: path, tensor: weight, expected: [dOut, dIn], actual: w.shape)
        }
        let b = try tensor(bias, shape: [dOut])
        do {
            if w.dtype == .float16 {
                return try data.withUnsafeBytes { raw throws(TensorError) in
                    try LinearWeights(float16: raw.baseAddress! + w.offset, dOut: dOut, dIn: dIn, bias: b)
                }
            }
            return try LinearWeights(weight: tensor(weight, shape: [dOut, dIn]), bias: b)
        } catch let error as EncoderError { throw error } catch { throw .tensor(error as! TensorError) }
    }

    /// An integer scalar variable (e.g. `encoder/num_heads`).
    public func integer(_ name: String) throws(EncoderError) -> Int {
        Int(try tensor(name).toArray()[0])
    }

    private struct Reader {
        let data: Data
        let file: String
        var position = 0
        var remaining: Int { data.count - position }

        mutating func bytes(_ n: Int) throws(EncoderError) -> Data {
            guard n >= 0, position + n <= data.count else {
                throw .invalidConfig(file: file, detail: "truncated at byte \(position) (needs \(n) more)")
            }
            defer { position += n }
            return data[(data.startIndex + position)..<(data.startIndex + position + n)]
        }
        mutating func skip(_ n: Int) throws(EncoderError) { _ = try bytes(n) }
        mutating func u8() throws(EncoderError) -> UInt8 { try bytes(1).first! }
        mutating func u16() throws(EncoderError) -> UInt16 {
            let b = try bytes(2)
            return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
        }
        mutating func u32() throws(EncoderError) -> UInt32 {
            let b = try bytes(4)
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[b.startIndex + $1]) << (8 * UInt32($1)) }
        }
        mutating func string() throws(EncoderError) -> String {
            let n = Int(try u16())
            let b = try bytes(n)
            return String(decoding: b.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
