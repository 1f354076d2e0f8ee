/// Tensor ops. Each op validates shapes (throwing `TensorError` with the shapes involved), then runs a
/// vectorised or BLAS-backed kernel. Destinations are explicit (`into:`) so callers can reuse buffers; unless
/// stated otherwise a destination may be the same tensor as the source (in-place).
///
/// Rank-2 operands are "matrices of rows": the innermost stride must be 1, the row stride may be larger (a view
/// of columns inside a wider matrix, e.g. Q inside a fused QKV projection). `Reference` has a naive version of
/// every op for tests.
public enum Ops {
    /// Checks that `t` is a rank-2 matrix with unit column stride and, when given, the expected extents.
    @usableFromInline
    static func requireMatrix(_ op: String, _ t: Tensor, rows: Int? = nil, cols: Int? = nil) throws(TensorError) {
        guard t.rank == 2 else { throw .shapeMismatch(op: op, expected: [rows ?? -1, cols ?? -1], actual: t.shape) }
        guard t.strides[1] == 1 else { throw .notContiguous(op: op, shape: t.shape, strides: t.strides) }
        if let rows, t.shape[0] != rows { throw .shapeMismatch(op: op, expected: [rows, cols ?? t.shape[1]], actual: t.shape) }
        if let cols, t.shape[1] != cols { throw .shapeMismatch(op: op, expected: [rows ?? t.shape[0], cols], actual: t.shape) }
    }

    /// Checks that `t` is a contiguous vector of `count` elements.
    @usableFromInline
    static func requireVector(_ op: String, _ t: Tensor, count: Int) throws(TensorError) {
        guard t.rank == 1, t.shape[0] == count, t.strides[0] == 1 else {
            throw .shapeMismatch(op: op, expected: [count], actual: t.shape)
        }
    }
}
