/// The write-ahead log: every change, appended and fsynced before it is applied and acknowledged.
///
/// Layout: an 8-byte header ("RWAL", version as u32), then records
///
///     u32 length | u32 crc32(payload) | payload = u64 lsn, LogOperation
///                                               or u64 lsn, u8 5 (batch), u32 n, n × LogOperation   (version 2)
///
/// all little-endian; the LSNs of consecutive records are consecutive (one per record). Version 2 adds the
/// batch record: the operations of one group commit (`GroupCommit`) in one record, so that one write is one
/// record and a crash during it tears only the last record, as before. Version 1 logs are read as they are;
/// opening one for writing rewrites its header to version 2 first. A crash can leave the last record torn
/// (short, or with a checksum that does not match): opening the log cuts it off, and returns what was cut so
/// the server can log it. That record was never acknowledged (each append is fsynced before its writes are),
/// so nothing acknowledged is lost. Damage with valid records after it is something else (a bad sector, a
/// flipped bit) and cutting there would drop acknowledged writes: opening then refuses, leaving the file as it
/// is, unless the operator chose `LogRecovery.truncate` (WriteAheadLog+Damage.swift).
///
/// Not thread-safe: `GroupCommit` appends from one leader at a time.
final class WriteAheadLog: @unchecked Sendable {
    /// The header of the logs this version writes.
    static let magic: [UInt8] = Array("RWAL".utf8) + [2, 0, 0, 0]
    /// The header of version 1 logs (no batch records), still read.
    static let magicVersion1: [UInt8] = Array("RWAL".utf8) + [1, 0, 0, 0]
    /// The operation code that starts a batch record's operations (LogOperation uses 1-4, 6 and 7).
    static let batchCode: UInt8 = 5
    /// A record larger than this is taken for a corrupt length field.
    static let maxRecordBytes = 1 << 30
    /// The smallest payload: an LSN and an operation code.
    static let minPayloadBytes = 9

    let path: String
    private let file: DataFile
    /// Where the next record goes: the end of the last good record.
    private(set) var end: Int
    /// Set when a failed write may have left the file in an unknown state; every later append is refused.
    private var failure: String?

    /// One record: one operation, or a batch of them (applied in order).
    struct Record {
        var lsn: UInt64
        var operations: [LogOperation]
    }

    /// What opening the log found.
    struct Recovery {
        var records: [Record]
        /// Bytes cut from the end (a torn last record, or with `.truncate` everything from the damage on), and
        /// why.
        var truncatedBytes = 0
        var truncationReason: String?
        /// With `.truncate`: the valid records after the damage that were cut, and where the log as it was is
        /// kept.
        var droppedRecords = 0
        var keptCopy: String?
    }

    init(path: String, file: DataFile, end: Int) {
        self.path = path
        self.file = file
        self.end = end
    }

    /// Opens (creating it when missing) the log at `path` and reads its records. A torn tail is cut off; damage
    /// with valid records after it throws `damagedLog` and leaves the file untouched, unless `policy` is
    /// `.truncate`. `snapshotLSN` is the LSN the snapshot holds the index up to (0 without one): the log's first
    /// record follows it.
    static func open(path: String, policy: LogRecovery = .refuse, snapshotLSN: UInt64 = 0) throws(IndexError) -> (WriteAheadLog, Recovery) {
        let file = try DataFile(path: path, mode: .readWrite)
        let size = try file.size()
        if size < magic.count {
            // New, or torn while its header was written: start it afresh.
            try file.truncate(to: 0)
            try magic.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: 0) }
            try file.sync()
            // A new log's directory entry must be durable too, or a crash could lose the whole file.
            try DataFile.syncDirectory(DataFile.directory(of: path))
            let recovery = Recovery(records: [], truncatedBytes: size, truncationReason: size > 0 ? "a torn header" : nil)
            return (WriteAheadLog(path: path, file: file, end: magic.count), recovery)
        }
        var header = [UInt8](repeating: 0, count: magic.count)
        _ = try header.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: 0) }
        guard header == magic || header == magicVersion1 else {
            throw .corrupt(path: path, reason: "it does not start with the write-ahead log header (RWAL, version 1 or 2)")
        }

        var recovery = Recovery(records: [])
        var offset = magic.count
        var damage: String?
        while offset < size, damage == nil {
            switch try readRecord(file, at: offset, size: size, path: path) {
            case let .record(record, bytes):
                recovery.records.append(record)
                offset += bytes
            case .damaged(let reason):
                damage = reason
            }
        }
        if let damage {
            let lastLSN = recovery.records.last?.lsn ?? snapshotLSN
            let after = try validRecords(after: offset, in: file, size: size, lastLSN: lastLSN, path: path)
            if let first = after.first, let last = after.last {
                guard policy == .truncate else {
                    throw .damagedLog(path: path, offset: offset, reason: damage, validRecordsAfter: after.count, lsns: first.lsn...last.lsn)
                }
                recovery.keptCopy = try keepCopy(of: file, size: size, path: path)
                recovery.droppedRecords = after.count
            }
            try file.truncate(to: offset)
            try file.sync()
            recovery.truncatedBytes = size - offset
            recovery.truncationReason = damage
        }
        if header != magic {
            // Batch records may follow: say so before any is written.
            try magic.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: 0) }
            try file.sync()
        }
        return (WriteAheadLog(path: path, file: file, end: offset), recovery)
    }

    private enum Read {
        case record(Record, bytes: Int)
        case damaged(String)
    }

    /// The record at `offset`, or why it is damaged (short, or failing its CRC). A record whose CRC matches but
    /// that does not decode is not damage a crash can make: that throws `corrupt`.
    private static func readRecord(_ file: DataFile, at offset: Int, size: Int, path: String) throws(IndexError) -> Read {
        var prefix = [UInt32](repeating: 0, count: 2)
        let got = try prefix.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: offset) }
        guard got == 8 else { return .damaged("a torn record header at byte \(offset)") }
        let length = Int(UInt32(littleEndian: prefix[0]))
        guard length >= minPayloadBytes, length <= maxRecordBytes, length <= size - offset - 8 else {
            return .damaged("a record at byte \(offset) claims \(length) bytes, \(size - offset - 8) remain")
        }
        var payload = [UInt8](repeating: 0, count: length)
        _ = try payload.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: offset + 8) }
        guard CRC32.checksum(payload) == UInt32(littleEndian: prefix[1]) else {
            return .damaged("the record at byte \(offset) fails its CRC32 check")
        }
        return .record(try decode(payload, at: offset, path: path), bytes: 8 + length)
    }

    /// A payload whose CRC matched: the LSN, the operation, and nothing after it.
    static func decode(_ payload: [UInt8], at offset: Int, path: String) throws(IndexError) -> Record {
        var reader = ByteReader(payload, origin: "\(path) (record at byte \(offset))")
        let lsn = try reader.read(UInt64.self)
        var operations: [LogOperation] = []
        if reader.peekByte() == batchCode {
            _ = try reader.read(UInt8.self)
            let count = Int(try reader.read(UInt32.self))
            guard count >= 2, count <= payload.count else {
                throw .corrupt(path: path, reason: "the record at byte \(offset) claims a batch of \(count) operations")
            }
            for _ in 0..<count { operations.append(try LogOperation.decode(from: &reader)) }
        } else {
            operations.append(try LogOperation.decode(from: &reader))
        }
        guard reader.isAtEnd else { throw .corrupt(path: path, reason: "the record at byte \(offset) has trailing bytes") }
        return Record(lsn: lsn, operations: operations)
    }

    /// The bytes of one record: length, CRC32 and payload (`lsn`, then the operation, or a batch of them), from
    /// the operations' encodings (`LogOperation.encoded()`), in order.
    static func record(lsn: UInt64, encoded operations: [[UInt8]]) throws(IndexError) -> [UInt8] {
        var record = ByteWriter()
        record.bytes.reserveCapacity(8 + 8 + 5 + operations.reduce(0) { $0 + $1.count })
        try record.write(UInt32(0))
        try record.write(UInt32(0))
        try record.write(lsn)
        if operations.count != 1 {
            try record.write(batchCode)
            try record.write(UInt32(operations.count))
        }
        for operation in operations { record.bytes.append(contentsOf: operation) }
        let length = record.bytes.count - 8
        guard length <= maxRecordBytes else {
            throw .invalidItem("the write's log record would be \(length) bytes, over the largest, \(maxRecordBytes): write fewer items at a time")
        }
        let checksum = record.bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[8...])) }
        withUnsafeBytes(of: UInt32(length).littleEndian) { record.bytes.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: checksum.littleEndian) { record.bytes.replaceSubrange(4..<8, with: $0) }
        return record.bytes
    }

    /// Appends one record (`record(lsn:encoded:)`) and fsyncs it. When this throws the record is not in the log: a
    /// failed write is cut off again, and if even that fails (or the fsync failed, after which the kernel may
    /// have dropped the pages) the log refuses every later append.
    func append(_ bytes: [UInt8]) throws(IndexError) {
        if let failure { throw .logFailed(reason: failure) }
        do throws(IndexError) {
            try bytes.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: end) }
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
        end += bytes.count
    }

    var byteCount: Int { end }

    /// Refuses every later append (the file itself closes with the last reference).
    func close(because reason: String = "the index was closed") {
        if failure == nil { failure = reason }
    }

    /// Why appends are refused, if they are.
    var refusal: String? { failure }
}
