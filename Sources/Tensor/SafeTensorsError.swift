/// Why a safetensors file was refused; every case names the file, and the tensor where one is at fault.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case truncated(file: String, detail: String)
    case headerTooLarge(file: String, length: UInt64, fileSize: Int)
    case invalidHeader(file: String, detail: String)
    case invalidEntry(file: String, tensor: String, detail: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case sizeMismatch(file: String, tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    case overlapping(file: String, tensor: String, other: String)
    case missingTensor(file: String, tensor: String)
    case notFloat(file: String, tensor: String, dtype: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): return "\(file): cannot open (\(reason))"
        case let .truncated(file, detail): return "\(file): truncated: \(detail)"
        case let .headerTooLarge(file, length, size):
            return "\(file): header length \(length) is absurd (file is \(size) bytes, limit \(SafeTensors.maxHeaderLength))"
        case let .invalidHeader(file, detail): return "\(file): invalid header: \(detail)"
        case let .invalidEntry(file, tensor, detail): return "\(file): tensor '\(tensor)': \(detail)"
        case let .unsupportedDType(file, tensor, dtype): return "\(file): tensor '\(tensor)': unsupported dtype \(dtype)"
        case let .sizeMismatch(file, tensor, shape, dtype, expected, actual):
            return "\(file): tensor '\(tensor)': shape \(shape) × \(dtype) needs \(expected) bytes, data_offsets span \(actual)"
        case let .offsetsOutOfRange(file, tensor, begin, end, dataSize):
            return "\(file): tensor '\(tensor)': data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data buffer"
        case let .overlapping(file, tensor, other): return "\(file): tensor '\(tensor)' overlaps '\(other)'"
        case let .missingTensor(file, tensor): return "\(file): no tensor '\(tensor)'"
        case let .notFloat(file, tensor, dtype): return "\(file): tensor '\(tensor)' has dtype \(dtype), not a float type"
        }
    }
}
