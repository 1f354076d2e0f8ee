#if canImport(Glibc)
import Glibc
#endif

/// Log segments: a snapshot rotates the log at its LSN, so that it can be written while writes go on.
///
/// The log at `path` takes the appends. Rotating it at LSN L (every record up to L written) renames it to the
/// closed segment `<path>.<L as 20 digits>` (names sort in LSN order) and puts a new, empty log at `path`: the
/// new log is created and fsynced as `<path>.new` first, then the two renames, then a directory fsync. Opening
/// the index replays the closed segments after the snapshot in order, then the log; a segment whose L the
/// snapshot covers is removed, whether or not its removal after the snapshot was interrupted.
extension WriteAheadLog {
    static func segmentPath(of path: String, lastLSN: UInt64) -> String {
        let digits = String(lastLSN)
        return path + "." + String(repeating: "0", count: 20 - digits.count) + digits
    }

    /// The closed segments of the log at `path`, in LSN order.
    static func closedSegments(of path: String) throws(IndexError) -> [(path: String, lastLSN: UInt64)] {
        let directory = DataFile.directory(of: path)
        let prefix = String(path.dropFirst(directory.count + 1)) + "."
        guard let handle = opendir(directory) else { throw DataFile.failure("list", directory) }
        defer { closedir(handle) }
        var segments: [(path: String, lastLSN: UInt64)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix) else { continue }
            let suffix = name.dropFirst(prefix.count)
            guard suffix.count == 20, suffix.allSatisfy(\.isASCII), suffix.allSatisfy(\.isNumber), let lsn = UInt64(suffix) else { continue }
            segments.append((directory + "/" + name, lsn))
        }
        return segments.sorted { $0.lastLSN < $1.lastLSN }
    }

    /// Closes this log as the segment of `lastLSN` (its last record's) and returns the new, empty log at its
    /// path. When this throws before the first rename nothing changed; after it, this log refuses appends
    /// (writes fail until a restart, which finds the segment and the log, or only the segment, and replays
    /// them).
    func rotate(lastLSN: UInt64) throws(IndexError) -> WriteAheadLog {
        if let refusal { throw .logFailed(reason: refusal) }
        let fresh = path + ".new"
        let file = try DataFile(path: fresh, mode: .createTruncate)
        do throws(IndexError) {
            try Self.magic.withBytes { (bytes) throws(IndexError) in try file.write(bytes, at: 0) }
            try file.sync()
            try DataFile.rename(path, to: Self.segmentPath(of: path, lastLSN: lastLSN))
        } catch {
            DataFile.remove(fresh)
            throw error
        }
        do throws(IndexError) {
            try DataFile.rename(fresh, to: path)
            try DataFile.syncDirectory(DataFile.directory(of: path))
        } catch {
            close(because: "rotating the log at a snapshot failed: \(error)")
            throw error
        }
        close(because: "the log was rotated")
        return WriteAheadLog(path: path, file: file, end: Self.magic.count)
    }

    /// Removes the closed segments of the log at `path` up to `lsn` (a snapshot holds their writes). A segment
    /// left behind is harmless: opening skips and removes it.
    static func removeSegments(of path: String, through lsn: UInt64) {
        guard let segments = try? closedSegments(of: path) else { return }
        for segment in segments where segment.lastLSN <= lsn { DataFile.remove(segment.path) }
    }
}
