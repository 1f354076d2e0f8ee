/// The write-ahead log: every change, appended and fsynced before it is applied and acknowledged.
///
/// Layout: an 8-byte header ("RWAL", version 1 as u32), then records
///
///     u32 length | u32 crc32(payload) | payload = u64 lsn, LogOperation
///
/// all little-endian. A crash can leave the last record torn (short) or with a checksum that does not match;
/// opening the log reads records until the first such one and truncates the file there, returning what was
/// cut so the server can log it. Records before it were fsynced before their writes were acknowledged, so
/// nothing acknowledged is lost; the cut record was never acknowledged.
///
/// Not thread-safe: `LocalIndex` appends under its writer lock.
final class WriteAheadLog: @unchecked Sendable {
    static let magic: [UInt8] = Array("RWAL".utf8) + [1, 0, 0, 0]
    /// A record larger than this is taken for a corrupt length field.
    static let maxRecordBytes = 1 << 30

    let path: String
    private let file: DataFile
    /// Where the next record goes: the end of the last good record.
    private(set) var end: Int
    /// Set when a failed write may have left the file in an unknown state; every later append is refused.
    private var failure: String?

    struct Record {
        var lsn: UInt64
        var operation: LogOperation
    }

    /// What opening the log found.
    struct Recovery {
        var records: [Record]
        /// Bytes cut from the end (a torn or corrupt last record), and why.
        var truncatedBytes: Int
        var truncationReason: String?
    }

    private init(path: String, file: DataFile, end: Int) {
        self.path = path
        self.file = file
        self.end = end
    }

    /// Opens (creating it when missing) the log at `path` and reads its records, truncating a torn tail.
    static func open(path: String) throws(IndexError) -> (WriteAheadLog, Recovery) {
        let file = try DataFile(path: path, mode: .readWrite)
        let size = try file.size()
        if size < magic.count {
            // New, or torn while its header was written: start it afresh.
            try file.truncate(to: 0)
            try magic.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: 0) }
            try file.sync()
            // A new log's directory entry must be durable too, or a crash could lose the whole file.
            try DataFile.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]).nonEmpty ?? ".")
            let recovery = Recovery(records: [], truncatedBytes: size, truncationReason: size > 0 ? "a torn header" : nil)
            return (WriteAheadLog(path: path, file: file, end: magic.count), recovery)
        }
        var header = [UInt8](repeating: 0, count: magic.count)
        _ = try header.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: 0) }
        guard header == magic else {
            throw .corrupt(path: path, reason: "it does not start with the write-ahead log header (RWAL, version 1)")
        }

        var records: [Record] = []
        var offset = magic.count
        var reason: String?
        while offset < size {
            var prefix = [UInt32](repeating: 0, count: 2)
            let got = try prefix.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: offset) }
            guard got == 8 else { reason = "a torn record header at byte \(offset)"; break }
            let length = Int(UInt32(littleEndian: prefix[0]))
            let checksum = UInt32(littleEndian: prefix[1])
            guard length >= 9, length <= maxRecordBytes, length <= size - offset - 8 else {
                reason = "a record at byte \(offset) claims \(length) bytes, \(size - offset - 8) remain"
                break
            }
            var payload = [UInt8](repeating: 0, count: length)
            _ = try payload.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: offset + 8) }
            guard CRC32.checksum(payload) == checksum else {
                reason = "the record at byte \(offset) fails its CRC32 check"
                break
            }
            var reader = ByteReader(payload, origin: "\(path) (record at byte \(offset))")
            let lsn = try reader.read(UInt64.self)
            let operation = try LogOperation.decode(from: &reader)
            guard reader.isAtEnd else { throw .corrupt(path: path, reason: "the record at byte \(offset) has trailing bytes") }
            records.append(Record(lsn: lsn, operation: operation))
            offset += 8 + length
        }
        if reason != nil {
            try file.truncate(to: offset)
            try file.sync()
        }
        let recovery = Recovery(records: records, truncatedBytes: size - offset, truncationReason: reason)
        return (WriteAheadLog(path: path, file: file, end: offset), recovery)
    }

    /// Appends one record and fsyncs it. When this throws the record is not in the log: a failed write is cut
    /// off again, and if even that fails (or the fsync failed, after which the kernel may have dropped the
    /// pages) the log refuses every later append.
    func append(lsn: UInt64, _ operation: LogOperation) throws(IndexError) {
        if let failure { throw .logFailed(reason: failure) }
        var payload = ByteWriter()
        try payload.write(lsn)
        try operation.encode(to: &payload)
        var record = ByteWriter()
        try record.write(UInt32(payload.bytes.count))
        try record.write(CRC32.checksum(payload.bytes))
        record.bytes.append(contentsOf: payload.bytes)
        do throws(IndexError) {
            try record.bytes.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: end) }
        } catch {
            do throws(IndexError) { try file.truncate(to: end) } catch { failure = "\(error)" }
            throw error
        }
        do throws(IndexError) {
            try file.sync()
        } catch {
            failure = "\(error)"
            throw error
        }
        end += record.bytes.count
    }

    /// Empties the log after a snapshot has made its records redundant.
    func reset() throws(IndexError) {
        if let failure { throw .logFailed(reason: failure) }
        do throws(IndexError) {
            try file.truncate(to: Self.magic.count)
            try file.sync()
        } catch {
            failure = "\(error)"
            throw error
        }
        end = Self.magic.count
    }

    var byteCount: Int { end }

    /// Refuses every later append (the file itself closes with the last reference).
    func close() {
        if failure == nil { failure = "the index was closed" }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
