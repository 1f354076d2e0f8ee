import Domain
/// The little-endian binary encoding shared by the write-ahead log and snapshots: fixed-width integers,
/// length-prefixed UTF-8 strings, and arrays of plain values copied as their bytes. Writers and readers over
/// memory (log records) and over files (snapshots, streamed) share the encoders below.
protocol ByteSink {
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(IndexError)
}

protocol ByteSource {
    /// Fills `bytes` completely, or throws `.corrupt` when the input ends first.
    mutating func readBytes(into bytes: UnsafeMutableRawBufferPointer) throws(IndexError)
    /// Where errors say the bytes came from.
    var origin: String { get }
    /// Bytes left to read: a count read from the input is checked against it before anything is allocated.
    var remainingBytes: Int { get }
}

extension ByteSink {
    mutating func write<T: FixedWidthInteger>(_ value: T) throws(IndexError) {
        var little = value.littleEndian
        let bytes = withUnsafeBytes(of: &little) { Array($0) }
        try bytes.withBytes { (raw) throws(IndexError) in try writeBytes(raw) }
    }

    mutating func write(_ value: Float) throws(IndexError) { try write(value.bitPattern) }
    mutating func write(_ value: Double) throws(IndexError) { try write(value.bitPattern) }

    mutating func write(_ string: String) throws(IndexError) {
        var utf8 = Array(string.utf8)
        try write(UInt32(utf8.count))
        try utf8.withMutableBytes { (bytes) throws(IndexError) in try writeBytes(UnsafeRawBufferPointer(bytes)) }
    }

    /// The values' bytes, no length prefix (the reader knows the count). Assumes a little-endian machine,
    /// as every platform Swift supports here is.
    mutating func writeArray<T: BitwiseCopyable>(_ values: [T]) throws(IndexError) {
        try values.withBytes { (bytes) throws(IndexError) in try writeBytes(bytes) }
    }

    mutating func write(_ metadata: Metadata) throws(IndexError) {
        try write(UInt32(metadata.count))
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            try write(key)
            switch value {
            case .string(let s):
                try write(UInt8(0))
                try write(s)
            case .number(let x):
                try write(UInt8(1))
                try write(x)
            }
        }
    }

    /// The spec as version 1 wrote it, then (`withOptions`) its options byte: bit 0 `keepPreviews`.
    mutating func write(_ spec: CollectionSpec, withOptions: Bool = true) throws(IndexError) {
        try write(spec.name)
        try write(spec.model)
        try write(UInt32(spec.dimensions))
        try write(UInt32(spec.modelDimensions))
        try write(spec.metric.rawValue)
        try write(spec.storage.rawValue)
        try write(spec.space)
        try write(spec.createdUnixMs)
        if withOptions { try write(UInt8(spec.keepPreviews ? 1 : 0)) }
    }

    /// u8 0 (none), or u8 1, the thumbnail (u32 length, bytes), u32 width, u32 height, the text, f32 duration.
    mutating func write(_ preview: Preview?) throws(IndexError) {
        guard let preview else { return try write(UInt8(0)) }
        try write(UInt8(1))
        try write(UInt32(preview.thumbnailJPEG.count))
        try writeArray(preview.thumbnailJPEG)
        try write(UInt32(preview.thumbnailWidth))
        try write(UInt32(preview.thumbnailHeight))
        try write(preview.text)
        try write(preview.durationSeconds)
    }
}

extension ByteSource {
    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(IndexError) -> T {
        var bytes = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
        try bytes.withMutableBytes { (raw) throws(IndexError) in try readBytes(into: raw) }
        return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) })
    }

    mutating func readFloat() throws(IndexError) -> Float { Float(bitPattern: try read(UInt32.self)) }
    mutating func readDouble() throws(IndexError) -> Double { Double(bitPattern: try read(UInt64.self)) }

    mutating func readString() throws(IndexError) -> String {
        let count = Int(try read(UInt32.self))
        guard count <= 1 << 24 else { throw .corrupt(path: origin, reason: "a string of \(count) bytes") }
        let bytes = try readArray(UInt8.self, count: count)
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readArray<T: BitwiseCopyable>(_: T.Type, count: Int) throws(IndexError) -> [T] {
        var result = [T]()
        guard count > 0 else { return result }
        guard count <= remainingBytes / MemoryLayout<T>.stride else {
            throw .corrupt(path: origin, reason: "\(count) values of \(MemoryLayout<T>.stride) bytes claimed, \(remainingBytes) bytes left")
        }
        var failure: IndexError?
        result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(IndexError) {
                try readBytes(into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return result
    }

    mutating func readMetadata() throws(IndexError) -> Metadata {
        let count = Int(try read(UInt32.self))
        // Each entry takes at least a key length (4 bytes) and a value kind (1).
        guard count <= remainingBytes / 5 else {
            throw .corrupt(path: origin, reason: "\(count) metadata entries claimed, \(remainingBytes) bytes left")
        }
        var metadata = Metadata(minimumCapacity: count)
        for _ in 0..<count {
            let key = try readString()
            switch try read(UInt8.self) {
            case 0: metadata[key] = .string(try readString())
            case 1: metadata[key] = .number(try readDouble())
            case let kind: throw .corrupt(path: origin, reason: "metadata value kind \(kind)")
            }
        }
        return metadata
    }

    mutating func readPreview() throws(IndexError) -> Preview? {
        switch try read(UInt8.self) {
        case 0: return nil
        case 1:
            let length = Int(try read(UInt32.self))
            guard length <= Preview.maxBytes else { throw .corrupt(path: origin, reason: "a preview thumbnail of \(length) bytes") }
            let jpeg = try readArray(UInt8.self, count: length)
            let width = Int(try read(UInt32.self)), height = Int(try read(UInt32.self))
            let text = try readString()
            return Preview(thumbnailJPEG: jpeg, thumbnailWidth: width, thumbnailHeight: height, text: text,
                           durationSeconds: try readFloat())
        case let kind: throw .corrupt(path: origin, reason: "preview kind \(kind)")
        }
    }

    /// A spec as `write(_:withOptions:)` wrote it.
    mutating func readSpec(withOptions: Bool) throws(IndexError) -> CollectionSpec {
        let name = try readString()
        let model = try readString()
        let dimensions = Int(try read(UInt32.self))
        let modelDimensions = Int(try read(UInt32.self))
        let metricName = try readString()
        let storageName = try readString()
        guard let metric = Metric(rawValue: metricName), let storage = Storage(rawValue: storageName) else {
            throw .corrupt(path: origin, reason: "collection '\(name)' has metric '\(metricName)', storage '\(storageName)'")
        }
        guard dimensions > 0 else { throw .corrupt(path: origin, reason: "collection '\(name)' has 0 dimensions") }
        var spec = CollectionSpec(
            name: name, model: model, dimensions: dimensions, modelDimensions: modelDimensions, metric: metric,
            storage: storage, space: try readString(), createdUnixMs: try read(Int64.self))
        if withOptions {
            let options = try read(UInt8.self)
            guard options <= 1 else { throw .corrupt(path: origin, reason: "collection '\(name)' has options \(options)") }
            spec.keepPreviews = options & 1 != 0
        }
        return spec
    }

    mutating func readModality() throws(IndexError) -> Modality {
        let raw = try read(UInt8.self)
        guard let modality = Modality(rawValue: raw) else { throw .corrupt(path: origin, reason: "modality \(raw)") }
        return modality
    }
}

/// Bytes in memory: a log record being built.
struct ByteWriter: ByteSink {
    var bytes: [UInt8] = []

    mutating func writeBytes(_ raw: UnsafeRawBufferPointer) throws(IndexError) {
        bytes.append(contentsOf: raw)
    }
}

/// Bytes in memory: a log record being read.
struct ByteReader: ByteSource {
    let bytes: [UInt8]
    var offset = 0
    let origin: String

    init(_ bytes: [UInt8], origin: String) {
        self.bytes = bytes
        self.origin = origin
    }

    var isAtEnd: Bool { offset == bytes.count }
    /// The next byte, without reading it (nil at the end).
    func peekByte() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }
    var remainingBytes: Int { bytes.count - offset }

    mutating func readBytes(into raw: UnsafeMutableRawBufferPointer) throws(IndexError) {
        guard bytes.count - offset >= raw.count else {
            throw .corrupt(path: origin, reason: "a record ends \(raw.count - (bytes.count - offset)) bytes early")
        }
        bytes.withUnsafeBytes { source in
            raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset ..< offset + raw.count]))
        }
        offset += raw.count
    }
}

// `withUnsafeBytes` rethrows untyped errors; these carry an IndexError through a Result instead.
extension Array where Element: BitwiseCopyable {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(IndexError) -> R) throws(IndexError) -> R {
        try withUnsafeBytes { raw in Result { () throws(IndexError) in try body(raw) } }.get()
    }

    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(IndexError) -> R) throws(IndexError) -> R {
        try withUnsafeMutableBytes { raw in Result { () throws(IndexError) in try body(raw) } }.get()
    }
}
