#if canImport(Glibc)
import Glibc
#endif

/// Telling a torn tail from damage in the middle of the log, and keeping the evidence when the operator
/// accepts the loss.
///
/// A crash tears at most the last record: the ones before it were fsynced before it was written. So when a
/// record is short or fails its CRC, the log is searched for valid records after it. None: a torn tail, cut
/// off as a crash leaves it. Some: damage to acknowledged data, which opening refuses unless the operator
/// chose `LogRecovery.truncate`.
extension WriteAheadLog {
    /// The LSN and offset of each valid record after the damaged one at `offset`: from every byte after it, a
    /// record whose length fits, whose LSN follows `lastLSN`, whose CRC matches and that decodes; once one is
    /// found, the search goes on after it. The damage may be in a length field, so records are not assumed to
    /// start where the damaged one claims to end.
    ///
    /// The LSN test comes first and is cheap: the records after the damage have consecutive LSNs after
    /// `lastLSN`, at most one per 17 bytes (the smallest record), so few byte positions pass it and the CRC
    /// runs on almost none of the others. The search is linear in the bytes after the damage.
    static func validRecords(after offset: Int, in file: DataFile, size: Int, lastLSN: UInt64, path: String) throws(IndexError)
        -> [(lsn: UInt64, offset: Int)]
    {
        let start = offset + 1
        let smallest = 8 + minPayloadBytes
        guard size - start >= smallest else { return [] }
        var tail = [UInt8](repeating: 0, count: size - start)
        _ = try tail.withMutableBytes { (bytes) throws(IndexError) in try file.read(into: bytes, at: start) }
        let maxLSNStep = UInt64(tail.count / smallest + 1)
        var found: [(lsn: UInt64, offset: Int)] = []
        tail.withUnsafeBytes { bytes in
            var previous = lastLSN
            var position = 0
            while bytes.count - position >= smallest {
                let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                let lsn = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self))
                if length >= minPayloadBytes, length <= bytes.count - position - 8, lsn > previous, lsn - previous <= maxLSNStep {
                    let checksum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self))
                    let payload = UnsafeRawBufferPointer(rebasing: bytes[(position + 8)..<(position + 8 + length)])
                    if CRC32.checksum(payload) == checksum, (try? decode(Array(payload), at: start + position, path: path)) != nil {
                        found.append((lsn, start + position))
                        previous = lsn
                        position += 8 + length
                        continue
                    }
                }
                position += 1
            }
        }
        return found
    }

    /// Copies the log as it is to `<path>.corrupt-<UTC time>` (`-2`, `-3`, ... after it if that exists; never
    /// over another file), fsynced with its directory entry, before `.truncate` cuts it; returns the copy's path.
    static func keepCopy(of file: DataFile, size: Int, path: String) throws(IndexError) -> String {
        let stem = path + ".corrupt-" + utcTimestamp()
        var copyPath = stem
        var attempt = 1
        while DataFile.exists(copyPath) {
            attempt += 1
            copyPath = stem + "-\(attempt)"
        }
        let copy = try DataFile(path: copyPath, mode: .createNew)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < size {
            let count = min(buffer.count, size - offset)
            let got = try buffer.withMutableBytes { (bytes) throws(IndexError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count]), at: offset)
            }
            guard got == count else {
                throw .storage(operation: "copy", path: path, reason: "it ended at byte \(offset + got), before its size of \(size)")
            }
            try buffer.withBytes { (bytes) throws(IndexError) in
                try copy.write(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: offset)
            }
            offset += count
        }
        try copy.sync()
        try DataFile.syncDirectory(DataFile.directory(of: copyPath))
        return copyPath
    }

    /// Now as 20250102T030405Z.
    private static func utcTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
