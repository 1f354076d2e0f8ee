/// A float32 tensor: an explicit shape, row-major strides (in elements) and a view into storage.
///
/// `Tensor` is a *view* with reference semantics for its elements, as in candle or MLX: copying a `Tensor`
/// copies the view, not the numbers. Weights loaded from a checkpoint are views into a memory-mapped file and are
/// never written; scratch tensors are owned by one request at a time (see `BERT.Scratch`). Ops that write take the
/// destination explicitly (`into:`), so a caller can reuse buffers across layers and requests.
public struct Tensor: @unchecked Sendable {
    /// Extent of each dimension, outermost first.
    public let shape: [Int]
    /// Distance in elements between consecutive indices of each dimension (row-major for contiguous tensors).
    public let strides: [Int]
    @usableFromInline let storage: TensorStorage
    /// Offset of element [0, 0, ...] in `storage`, in elements.
    @usableFromInline let offset: Int

    /// A zero-filled contiguous tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.storage = TensorStorage(count: shape.reduce(1, *))
        self.offset = 0
    }

    /// A contiguous tensor holding `values` (row-major); `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        let count = shape.reduce(1, *)
        guard values.count == count else {
            throw .elementCount(op: "Tensor.init", shape: shape, expected: count, actual: values.count)
        }
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            storage.pointer.update(from: src.baseAddress!, count: count)
        }
    }

    /// A view over external memory kept alive by `owner` (e.g. a memory-mapped safetensors file).
    init(shape: [Int], borrowing pointer: UnsafeMutablePointer<Float>, owner: AnyObject) {
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.storage = TensorStorage(borrowing: pointer, count: shape.reduce(1, *), owner: owner)
        self.offset = 0
    }

    init(shape: [Int], strides: [Int], storage: TensorStorage, offset: Int) {
        self.shape = shape
        self.strides = strides
        self.storage = storage
        self.offset = offset
    }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }
    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) }

    /// Pointer to element [0, 0, ...]. Valid while this tensor (or its storage owner) is alive.
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// Whether the storage is a memory-mapped file (rather than memory of its own).
    var isMapped: Bool { storage.mapping != nil }

    /// For a weight that is kept in another form (packed at load): if this is a view of a memory-mapped
    /// checkpoint, its pages leave the resident set (they are read back from the file if touched again);
    /// otherwise nothing happens.
    func releaseMappedPages() {
        guard isContiguous, let mapping = storage.mapping else { return }
        mapping.release(pointer, byteCount: count * MemoryLayout<Float>.size)
    }

    /// The rows `range` of a rank-2 tensor, as a view (no copy).
    public func rows(_ range: Range<Int>) throws(TensorError) -> Tensor {
        guard rank == 2, range.lowerBound >= 0, range.upperBound <= shape[0] else {
            throw .invalidSlice(op: "rows", shape: shape, range: range)
        }
        return Tensor(shape: [range.count, shape[1]], strides: strides, storage: storage,
                      offset: offset + range.lowerBound * strides[0])
    }

    /// Columns `range` of a rank-2 tensor, as a strided view (no copy); e.g. Q, K, V inside a fused QKV matrix.
    public func columns(_ range: Range<Int>) throws(TensorError) -> Tensor {
        guard rank == 2, range.lowerBound >= 0, range.upperBound <= shape[1] else {
            throw .invalidSlice(op: "columns", shape: shape, range: range)
        }
        return Tensor(shape: [shape[0], range.count], strides: strides, storage: storage,
                      offset: offset + range.lowerBound * strides[1])
    }

    /// The same elements with another shape; the tensor must be contiguous.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        guard isContiguous, newShape.reduce(1, *) == count else {
            throw .shapeMismatch(op: "reshaped", expected: newShape, actual: shape)
        }
        return Tensor(shape: newShape, strides: Tensor.contiguousStrides(newShape), storage: storage, offset: offset)
    }

    /// Element access by full index (tests and debugging; not for hot paths).
    public subscript(_ index: Int...) -> Float {
        get { pointer[linearOffset(index)] }
        nonmutating set { pointer[linearOffset(index)] = newValue }
    }

    private func linearOffset(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index rank \(index.count) != tensor rank \(rank)")
        var at = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of bounds for shape \(shape)")
            at += i * strides[axis]
        }
        return at
    }

    /// The elements in row-major order (copies).
    public func toArray() -> [Float] {
        if isContiguous { return Array(UnsafeBufferPointer(start: pointer, count: count)) }
        guard rank == 2 else {
            var out: [Float] = []
            out.reserveCapacity(count)
            forEachIndex { out.append(pointer[$0]) }
            return out
        }
        var out = [Float](repeating: 0, count: count)
        let (rows, cols) = (shape[0], shape[1])
        out.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows {
                let src = pointer + r * strides[0]
                for c in 0..<cols { dst[r * cols + c] = src[c * strides[1]] }
            }
        }
        return out
    }

    /// Stacks rank-2 tensors with equal column counts into one contiguous [Σ rows, cols] tensor (copies).
    public static func concatenatingRows(_ parts: [Tensor]) throws(TensorError) -> Tensor {
        guard let cols = parts.first?.shape.last, parts.allSatisfy({ $0.rank == 2 && $0.shape[1] == cols }) else {
            throw .invalidArgument(op: "concatenatingRows", detail: "shapes \(parts.map(\.shape))")
        }
        let out = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }, cols])
        var row = 0
        for part in parts {
            for r in 0..<part.shape[0] {
                for c in 0..<cols { out.pointer[(row + r) * cols + c] = part.pointer[r * part.strides[0] + c * part.strides[1]] }
            }
            row += part.shape[0]
        }
        return out
    }

    /// The transpose of a rank-2 tensor as a new contiguous tensor (copies, in cache-sized tiles).
    public func transposedCopy() throws(TensorError) -> Tensor {
        guard rank == 2 else { throw .invalidArgument(op: "transposedCopy", detail: "rank \(rank) tensor") }
        let (rows, cols) = (shape[0], shape[1])
        let out = Tensor(zeros: [cols, rows])
        let tile = 32
        for r0 in stride(from: 0, to: rows, by: tile) {
            for c0 in stride(from: 0, to: cols, by: tile) {
                for r in r0..<min(r0 + tile, rows) {
                    for c in c0..<min(c0 + tile, cols) { out.pointer[c * rows + r] = pointer[r * strides[0] + c * strides[1]] }
                }
            }
        }
        return out
    }

    /// Concatenates vectors into one contiguous vector (copies).
    public static func concatenating(_ parts: [Tensor]) throws(TensorError) -> Tensor {
        let flat = try concatenatingRows(parts.map { part throws(TensorError) in try part.reshaped([part.count, 1]) })
        return try flat.reshaped([flat.count])
    }

    /// A contiguous copy of this view.
    public func copy() -> Tensor {
        let out = Tensor(zeros: shape)
        toArray().withUnsafeBufferPointer { out.pointer.update(from: $0.baseAddress!, count: count) }
        return out
    }

    private func forEachIndex(_ body: (Int) -> Void) {
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<count {
            var at = 0
            for axis in 0..<rank { at += index[axis] * strides[axis] }
            body(at)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Backing memory of tensors: owned (allocated, 64-byte aligned for AVX-512) or borrowed (kept alive by `owner`).
@usableFromInline final class TensorStorage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    let count: Int
    private let owner: AnyObject?

    init(count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        self.count = count
        owner = nil
    }

    init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// The checkpoint file this storage is a view of, if any.
    var mapping: Mapping? { owner as? Mapping }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}
