/// Errors from tensor ops: each case names the op and carries the shapes involved.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// An operand's shape does not match what the op needs.
    case shapeMismatch(op: String, expected: [Int], actual: [Int])
    /// Two operands disagree on a shared dimension (e.g. the inner dimension of a matmul).
    case incompatibleShapes(op: String, lhs: [Int], rhs: [Int])
    /// A view or op needs rows whose elements are contiguous (innermost stride 1).
    case notContiguous(op: String, shape: [Int], strides: [Int])
    /// A slice lies outside the tensor.
    case invalidSlice(op: String, shape: [Int], range: Range<Int>)
    /// A value array has the wrong number of elements for a shape.
    case elementCount(op: String, shape: [Int], expected: Int, actual: Int)
    /// An index (e.g. a token id) is outside a table.
    case indexOutOfRange(op: String, index: Int, bound: Int)
    /// An argument is invalid for a reason stated in `detail`.
    case invalidArgument(op: String, detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, expected, actual):
            return "\(op): expected shape \(expected), got \(actual)"
        case let .incompatibleShapes(op, lhs, rhs):
            return "\(op): incompatible shapes \(lhs) and \(rhs)"
        case let .notContiguous(op, shape, strides):
            return "\(op): rows must be contiguous, got shape \(shape) strides \(strides)"
        case let .invalidSlice(op, shape, range):
            return "\(op): range \(range) outside shape \(shape)"
        case let .elementCount(op, shape, expected, actual):
            return "\(op): shape \(shape) needs \(expected) values, got \(actual)"
        case let .indexOutOfRange(op, index, bound):
            return "\(op): index \(index) outside 0..<\(bound)"
        case let .invalidArgument(op, detail):
            return "\(op): \(detail)"
        }
    }
}
