import Foundation
import NIOCore

/// A file written with write(2), so that a full disk (ENOSPC) or a file-size limit (EFBIG) arrives as its errno.
final class AppendingFile {
    private let descriptor: Int32

    init(_ url: URL, truncate: Bool) throws(HubError) {
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        guard descriptor >= 0 else { throw .storage(path: url.path, detail: POSIXFailure.describe(POSIXFailure(errno: errno))) }
    }

    func write(_ buffer: ByteBuffer) throws(POSIXFailure) {
        let failure: Int32? = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(descriptor, base + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure { throw POSIXFailure(errno: failure) }
    }

    func sync() throws(POSIXFailure) {
        guard fsync(descriptor) == 0 else { throw POSIXFailure(errno: errno) }
    }

    func close() { _ = Foundation.close(descriptor) }
}

/// An exclusive flock(2) on the file huggingface_hub locks for the same blob (its FileLock is flock-based), so a
/// Python process and this server never download the same blob at once. Waits by polling, off the thread pool's
/// critical path.
final class FileLock {
    private let descriptor: Int32

    static func acquire(_ url: URL) async throws(HubError) -> FileLock {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .storage(path: url.deletingLastPathComponent().path, detail: POSIXFailure.describe(error))
        }
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .storage(path: url.path, detail: POSIXFailure.describe(POSIXFailure(errno: errno))) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let failure = errno
                _ = close(descriptor)
                throw .storage(path: url.path, detail: POSIXFailure.describe(POSIXFailure(errno: failure)))
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return FileLock(descriptor: descriptor)
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    func release() {
        _ = flock(descriptor, LOCK_UN)
        _ = close(descriptor)
    }
}
