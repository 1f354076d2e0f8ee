import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A memory-mapped safetensors file (https://github.com/huggingface/safetensors, "Format").
///
/// Layout: 8 bytes little-endian u64 N, then N bytes of JSON header, then the data buffer. The header maps each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` with offsets relative to the data buffer;
/// the optional `__metadata__` entry (string map) is kept but not interpreted.
///
/// The whole file is mapped read-only and F32 tensors are zero-copy views into the mapping (the mapping lives
/// as long as any tensor taken from it). F16 and BF16 tensors are converted to F32 on access (a heap copy of that
/// tensor only). Other dtypes (e.g. the I64 `position_ids` buffer some BERT checkpoints carry) are validated and
/// listed but cannot be read as float tensors.
///
/// Opening validates everything up front and throws `SafeTensorsError` naming the file and tensor: header length
/// within the file, JSON well-formed, known dtype, shape × dtype size == byte span, offsets inside the data buffer
/// and no two tensors overlapping.
public final class SafeTensors: @unchecked Sendable {
    public enum DType: String, Sendable, CaseIterable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

        public var byteSize: Int {
            switch self {
            case .F64, .I64, .U64: return 8
            case .F32, .I32, .U32: return 4
            case .F16, .BF16, .I16, .U16: return 2
            case .I8, .U8, .BOOL: return 1
            }
        }
    }

    /// One header entry: dtype, shape and the byte range inside the data buffer.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let dataOffsets: Range<Int>
    }

    /// Largest header accepted (the format's reference implementation uses 100 MB).
    public static let maxHeaderLength = 100_000_000

    public let path: String
    /// Entries by tensor name (without `__metadata__`).
    public let entries: [String: Entry]
    /// The `__metadata__` string map, if present (not interpreted).
    public let metadata: [String: String]
    private let mapping: Mapping
    private let dataStart: Int

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Maps and validates the file at `path`.
    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        let mapping = try Mapping(path: path)
        self.mapping = mapping
        let size = mapping.size
        guard size >= 8 else { throw .truncated(file: path, detail: "file has \(size) bytes, needs at least 8") }
        let base = UnsafeRawPointer(mapping.base)
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(SafeTensors.maxHeaderLength) else {
            throw .headerTooLarge(file: path, length: headerLength, fileSize: size)
        }
        guard Int(headerLength) <= size - 8 else {
            throw .truncated(file: path, detail: "header length \(headerLength) exceeds the \(size - 8) bytes after it")
        }
        dataStart = 8 + Int(headerLength)
        let headerBytes = Data(bytes: base + 8, count: Int(headerLength))
        (entries, metadata) = try SafeTensors.parseHeader(headerBytes, file: path, dataSize: size - dataStart)
    }

    /// The entry for `name`, or `.missingTensor`.
    public func entry(_ name: String) throws(SafeTensorsError) -> Entry {
        guard let entry = entries[name] else { throw .missingTensor(file: path, tensor: name) }
        return entry
    }

    /// The tensor `name` as float32: a zero-copy view for F32 (when 4-byte aligned), a converted copy for F16/BF16.
    public func tensor(_ name: String) throws(SafeTensorsError) -> Tensor {
        let entry = try entry(name)
        let count = entry.shape.reduce(1, *)
        let raw = UnsafeRawPointer(mapping.base) + dataStart + entry.dataOffsets.lowerBound
        switch entry.dtype {
        case .F32:
            if Int(bitPattern: raw) % MemoryLayout<Float>.alignment == 0 {
                let p = UnsafeMutablePointer(mutating: raw.assumingMemoryBound(to: Float.self))
                return Tensor(shape: entry.shape, borrowing: p, owner: mapping)
            }
            let t = Tensor(zeros: entry.shape)
            UnsafeMutableRawPointer(t.pointer).copyMemory(from: raw, byteCount: count * 4)
            return t
        case .F16:
            return Tensor(shape: entry.shape, float16: raw)
        case .BF16:
            return Tensor(shape: entry.shape, bfloat16: raw)
        default:
            throw .notFloat(file: path, tensor: name, dtype: entry.dtype.rawValue)
        }
    }

    static func parseHeader(_ bytes: Data, file: String, dataSize: Int)
        throws(SafeTensorsError) -> ([String: Entry], [String: String]) {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: bytes, options: [])
        } catch {
            throw .invalidHeader(file: file, detail: "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw .invalidHeader(file: file, detail: "header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw .invalidHeader(file: file, detail: "__metadata__ is not an object")
                }
                for (k, v) in map {
                    guard let s = v as? String else {
                        throw .invalidHeader(file: file, detail: "__metadata__[\(k)] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            entries[name] = try parseEntry(name: name, value, file: file, dataSize: dataSize)
        }
        // No two tensors may share bytes: sort by start and compare neighbours.
        let sorted = entries.values.filter { !$0.dataOffsets.isEmpty }
            .sorted { ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.dataOffsets.lowerBound < a.dataOffsets.upperBound {
            throw .overlapping(file: file, tensor: b.name, other: a.name)
        }
        return (entries, metadata)
    }

    private static func parseEntry(name: String, _ value: Any, file: String, dataSize: Int)
        throws(SafeTensorsError) -> Entry {
        guard let fields = value as? [String: Any] else {
            throw .invalidEntry(file: file, tensor: name, detail: "entry is not an object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw .invalidEntry(file: file, tensor: name, detail: "missing or non-string dtype")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unsupportedDType(file: file, tensor: name, dtype: dtypeName)
        }
        guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidEntry(file: file, tensor: name, detail: "shape must be an array of non-negative integers")
        }
        guard let offsets = integers(fields["data_offsets"]), offsets.count == 2,
              offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw .invalidEntry(file: file, tensor: name, detail: "data_offsets must be [begin, end] with 0 <= begin <= end")
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let (bytes, overflow2) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, !overflow2, bytes == offsets[1] - offsets[0] else {
            throw .sizeMismatch(file: file, tensor: name, shape: shape, dtype: dtype.rawValue,
                                expectedBytes: overflow || overflow2 ? -1 : bytes, actualBytes: offsets[1] - offsets[0])
        }
        guard offsets[1] <= dataSize else {
            throw .offsetsOutOfRange(file: file, tensor: name, begin: offsets[0], end: offsets[1], dataSize: dataSize)
        }
        return Entry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// A JSON array of integers (rejects fractions, strings and numbers beyond Int).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for element in array {
            guard let number = element as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double.rounded() == double, let int = Int(exactly: double) else { return nil }
            out.append(int)
        }
        return out
    }
}

/// A read-only private mapping of a whole file; unmapped when the last tensor view is released.
final class Mapping: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        size = Int(info.st_size)
        if size == 0 {
            // mmap of length 0 fails; an empty file is reported as truncated by the caller.
            base = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            isMapped = false
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .cannotOpen(file: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        base = p
        isMapped = true
    }

    private let isMapped: Bool

    /// Drops the whole pages inside [start, start + byteCount) from the resident set (MADV_DONTNEED): the
    /// mapping is private and never written, so a later read faults the same bytes back in from the file.
    func release(_ start: UnsafeRawPointer, byteCount: Int) {
        guard isMapped else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + byteCount) / page * page
        guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, end - first, MADV_DONTNEED)
    }

    deinit {
        if isMapped { munmap(base, size) } else { base.deallocate() }
    }
}
