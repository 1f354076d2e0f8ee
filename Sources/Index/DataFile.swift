#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file descriptor with the few POSIX calls durability needs (write all, fsync, truncate, rename, fsync of
/// a directory), each failure an `IndexError.storage` (or `.outOfSpace`) naming the operation, the path and
/// errno's text.
final class DataFile: @unchecked Sendable {
    let path: String
    private(set) var fd: Int32

    enum Mode { case read, readWrite, createTruncate, createNew }

    init(path: String, mode: Mode) throws(IndexError) {
        self.path = path
        let flags: Int32 = switch mode {
        case .read: O_RDONLY
        case .readWrite: O_RDWR | O_CREAT
        case .createTruncate: O_RDWR | O_CREAT | O_TRUNC
        case .createNew: O_RDWR | O_CREAT | O_EXCL
        }
        fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure("open", path) }
    }

    deinit { if fd >= 0 { close(fd) } }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The error for errno after `operation` on `path` failed: out of space (a full file system, a quota, a
    /// file-size limit), which retrying will not cure until room is made, or any other storage failure.
    static func failure(_ operation: String, _ path: String) -> IndexError {
        let code = errno
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT, EFBIG: return .outOfSpace(operation: operation, path: path, reason: reason)
        default: return .storage(operation: operation, path: path, reason: reason)
        }
    }

    /// The directory holding `path` ("." for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    func size() throws(IndexError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure("stat", path) }
        return Int(info.st_size)
    }

    /// Writes all of `bytes` at `offset` (retrying short writes and EINTR).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(IndexError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", path)
            }
            done += n
        }
    }

    /// Reads up to `bytes.count` bytes at `offset`; returns how many (fewer only at the end of the file).
    func read(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) throws(IndexError) -> Int {
        var done = 0
        while done < bytes.count {
            let n = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read", path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Flushes the file's data (and the metadata needed to read it, e.g. its size) to the device.
    func sync() throws(IndexError) {
        guard fdatasync(fd) == 0 else { throw Self.failure("fsync", path) }
    }

    func truncate(to size: Int) throws(IndexError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Self.failure("truncate", path) }
    }

    /// Makes a rename or a file creation in `directory` durable.
    static func syncDirectory(_ directory: String) throws(IndexError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", directory) }
    }

    static func rename(_ from: String, to: String) throws(IndexError) {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename to \(to)", from) }
    }

    static func remove(_ path: String) { unlink(path) }

    static func makeDirectory(_ path: String) throws(IndexError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o755) != 0 && errno != EEXIST { throw failure("create directory", partial) }
        }
    }
}
