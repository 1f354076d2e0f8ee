/// Snapshots: the whole index in one file, written to a temporary name, fsynced, renamed over the previous
/// snapshot and the directory fsynced, so that a crash leaves either the old or the new snapshot, whole.
///
/// Layout (little-endian): "RSNP", u32 version 2, u64 last log sequence number included, u32 collection
/// count, the collections (`CollectionStore.write`), and a u32 CRC32 of everything before it. Version 2 adds
/// each collection's options byte (`CollectionSpec.keepPreviews`) and the previews of the collections that keep
/// them; version 1 snapshots are still read.
enum Snapshot {
    static let magic: [UInt8] = Array("RSNP".utf8) + [2, 0, 0, 0]
    static let magicVersion1: [UInt8] = Array("RSNP".utf8) + [1, 0, 0, 0]

    /// Writes `collections` as of log sequence number `lsn` to `path` (atomically, as above).
    static func write(_ collections: [CollectionStore], lsn: UInt64, to path: String, directory: String) throws(IndexError) {
        let temporary = path + ".tmp"
        var writer = try SnapshotWriter(path: temporary)
        do {
            try writer.writeArray(magic)
            try writer.write(lsn)
            try writer.write(UInt32(collections.count))
            for collection in collections { try collection.write(to: &writer) }
            try writer.finish()
        } catch {
            DataFile.remove(temporary)
            throw error
        }
        try DataFile.rename(temporary, to: path)
        try DataFile.syncDirectory(directory)
    }

    /// Reads the snapshot at `path`: its collections and the last log sequence number it includes.
    static func read(from path: String) throws(IndexError) -> (collections: [CollectionStore], lsn: UInt64) {
        var reader = try SnapshotReader(path: path)
        let header = try reader.readArray(UInt8.self, count: magic.count)
        guard header == magic || header == magicVersion1 else {
            throw .corrupt(path: path, reason: "it does not start with RSNP version 1 or 2")
        }
        let version = header[4]
        let lsn = try reader.read(UInt64.self)
        let count = Int(try reader.read(UInt32.self))
        var collections: [CollectionStore] = []
        for _ in 0..<count { collections.append(try CollectionStore.read(from: &reader, version: version)) }
        try reader.finish()
        return (collections, lsn)
    }
}

/// A buffered file writer that keeps a running CRC32 of what it wrote.
struct SnapshotWriter: ByteSink {
    private let file: DataFile
    private var buffer: [UInt8] = []
    private var offset = 0
    private var crc = CRC32()
    private static let bufferBytes = 1 << 20
    /// Bytes written since the last fsync. A snapshot is fsynced every `syncBytes` as it is written, so that
    /// little of it is ever dirty in the page cache: the log's fsyncs, which the file system may make wait for
    /// other files' dirty data (ext4's ordered journal), then wait for at most that much.
    private var unsynced = 0
    private static let syncBytes = 32 << 20

    init(path: String) throws(IndexError) {
        file = try DataFile(path: path, mode: .createTruncate)
        buffer.reserveCapacity(Self.bufferBytes)
    }

    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(IndexError) {
        crc.update(bytes)
        if buffer.count + bytes.count > Self.bufferBytes { try flush() }
        if bytes.count >= Self.bufferBytes {
            try file.write(bytes, at: offset)
            offset += bytes.count
            try syncEvery(bytes.count)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    private mutating func flush() throws(IndexError) {
        guard !buffer.isEmpty else { return }
        try buffer.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: offset) }
        offset += buffer.count
        try syncEvery(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func syncEvery(_ written: Int) throws(IndexError) {
        unsynced += written
        if unsynced >= Self.syncBytes {
            try file.sync()
            unsynced = 0
        }
    }

    /// Appends the CRC, flushes and fsyncs.
    mutating func finish() throws(IndexError) {
        var checksum = crc.value.littleEndian
        let trailer = withUnsafeBytes(of: &checksum) { Array($0) }
        buffer.append(contentsOf: trailer)
        try flush()
        try file.sync()
    }
}

/// A buffered file reader that checks the CRC32 trailer once everything is read.
struct SnapshotReader: ByteSource {
    private let file: DataFile
    private let size: Int
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var position = 0
    private var crc = CRC32()
    private static let bufferBytes = 1 << 20

    var origin: String { file.path }
    /// Bytes before the CRC trailer not read yet.
    var remainingBytes: Int { size - 4 - position }

    init(path: String) throws(IndexError) {
        file = try DataFile(path: path, mode: .read)
        size = try file.size()
    }

    mutating func readBytes(into bytes: UnsafeMutableRawBufferPointer) throws(IndexError) {
        guard size - 4 - position >= bytes.count else {
            throw .corrupt(path: file.path, reason: "it ends early (\(size) bytes)")
        }
        var filled = 0
        // What is left in the buffer first, then large reads straight into the destination.
        let buffered = min(bytes.count, bufferStart + buffer.count - position)
        if buffered > 0 {
            buffer.withUnsafeBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: bytes[0..<buffered])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: b[(position - bufferStart)...].prefix(buffered)))
            }
            filled = buffered
            position += buffered
        }
        let remaining = bytes.count - filled
        if remaining >= Self.bufferBytes {
            let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]), at: position)
            guard got == remaining else { throw .corrupt(path: file.path, reason: "it ends early") }
            position += remaining
        } else if remaining > 0 {
            buffer = [UInt8](repeating: 0, count: min(Self.bufferBytes, size - position))
            let got = try buffer.withMutableBytes { (b) throws(IndexError) in try file.read(into: b, at: position) }
            guard got >= remaining else { throw .corrupt(path: file.path, reason: "it ends early") }
            buffer.removeLast(buffer.count - got)
            bufferStart = position
            buffer.withUnsafeBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: b[0..<remaining]))
            }
            position += remaining
        }
        crc.update(UnsafeRawBufferPointer(bytes))
    }

    /// Checks that exactly the CRC trailer is left and that it matches.
    mutating func finish() throws(IndexError) {
        guard size - position == 4 else {
            throw .corrupt(path: file.path, reason: "\(size - position - 4) unexpected bytes after the last collection")
        }
        var trailer = [UInt8](repeating: 0, count: 4)
        _ = try trailer.withMutableBytes { (b) throws(IndexError) in try file.read(into: b, at: position) }
        let stored = trailer.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        guard UInt32(littleEndian: stored) == crc.value else {
            throw .corrupt(path: file.path, reason: "CRC32 mismatch (the file was damaged after it was written)")
        }
    }
}
