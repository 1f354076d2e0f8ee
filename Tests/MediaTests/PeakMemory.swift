import Glibc
import Synchronization

/// The peak memory a piece of work needs, measured in a forked child so that tests running concurrently in
/// this process do not count: the child returns the heap's free memory to the system (`malloc_trim`, so that
/// reusing it counts), resets its peak resident set (`/proc/self/clear_refs` ← 5), runs the work, and reports
/// `VmHWM` − `VmRSS` at the start: the bytes of memory the work touched at its peak.
///
/// The child may grow its address space by `allowance` bytes only (RLIMIT_AS): work that would need more
/// fails its allocation and the child dies, which `measure` reports as `.failed`, instead of taking the
/// machine's memory. Run the work once in the parent first (`warmUp`), so that the child finds the runtime's
/// lazily made state (type metadata, globals) ready and needs nothing but malloc.
enum PeakMemory {
    enum Outcome: Equatable, CustomStringConvertible {
        /// The work's peak, in bytes above the child's resident set at the start, and what it returned.
        case peak(Int, result: [Int])
        /// No measurement: why (most often, the work needed more than the allowance and its child died).
        case failed(String)

        var description: String {
            switch self {
            case let .peak(bytes, _): "peak \(bytes / 1024) KiB"
            case let .failed(reason): reason
            }
        }

        /// The peak when measured, else Int.max.
        var bytes: Int { if case let .peak(b, _) = self { b } else { .max } }
        /// What the work returned; empty when it did not finish.
        var result: [Int] { if case let .peak(_, r) = self { r } else { [] } }
    }

    static let maxResults = 8
    static let timeoutSeconds: Int32 = 300

    /// glibc's `malloc_trim` (not in Swift's Glibc module), looked up before any fork.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }

    /// One fork at a time: glibc runs OpenBLAS's prefork handler (`blas_thread_shutdown_`) in every forking
    /// thread, and two forks at once deadlock there (seen: one thread joining a BLAS worker inside it while holding
    /// OpenBLAS's lock, the other waiting for that lock).
    private static let forks = Mutex(())

    static func measure(allowance: Int = 1 << 30, warmUp: () -> Void, _ work: () -> [Int]) -> Outcome {
        warmUp()
        _ = mallocTrim
        return forks.withLock { _ in measureInChild(allowance: allowance, work) }
    }

    private static func measureInChild(allowance: Int, _ work: () -> [Int]) -> Outcome {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return .failed("pipe failed") }
        let pid = fork()
        if pid == 0 {
            close(fds[0])
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
            limit.rlim_cur = min(limit.rlim_max, rlim_t(status("VmSize") + allowance))
            // Free heap memory the parent left resident would hide the work's allocations that reuse it.
            _ = mallocTrim?(0)
            guard setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, resetPeak() else { _exit(3) }
            let start = status("VmRSS")
            let result = work()
            var report = [status("VmHWM") - start, result.count] + result.prefix(maxResults)
            report += [Int](repeating: 0, count: maxResults + 2 - report.count)
            let size = report.count * MemoryLayout<Int>.size
            guard report.withUnsafeBytes({ write(fds[1], $0.baseAddress, size) }) == size else { _exit(4) }
            _exit(0)
        }
        close(fds[1])
        defer { close(fds[0]) }
        guard pid > 0 else { return .failed("fork failed") }
        var report = [Int](repeating: 0, count: maxResults + 2)
        let size = report.count * MemoryLayout<Int>.size
        var got = 0
        while got < size {
            // A child that never reports (stuck on a lock another thread held at the fork) is killed.
            var ready = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, timeoutSeconds * 1000) == 1 else { kill(pid, SIGKILL); break }
            let n = report.withUnsafeMutableBytes { read(fds[0], $0.baseAddress! + got, size - got) }
            if n <= 0 { break }
            got += n
        }
        var wstatus: Int32 = 0
        waitpid(pid, &wstatus, 0)
        let signal = wstatus & 0x7f, code = (wstatus >> 8) & 0xff
        guard got == size, signal == 0, code == 0 else {
            return .failed(
                signal == SIGKILL ? "the child gave no report within \(timeoutSeconds) s and was killed"
                    : signal != 0 ? "the child died of signal \(signal) (an allocation past its \(allowance >> 20) MiB address-space allowance aborts)"
                    : code == 3 ? "cannot limit the child's address space or reset its peak (/proc/self/clear_refs)"
                    : "the child exited with status \(code)")
        }
        return .peak(report[0], result: Array(report[2..<(2 + report[1])]))
    }

    /// Bytes of a `/proc/self/status` field given in kB ("VmRSS:  1234 kB"); 0 when absent.
    static func status(_ field: String) -> Int {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kB = line.split(whereSeparator: { !$0.isNumber }).first.flatMap { Int($0) } ?? 0
            return kB * 1024
        }
        return 0
    }

    /// Resets VmHWM to the current resident set (Linux ≥ 4.0).
    private static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }
}
