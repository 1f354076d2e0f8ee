import Foundation

/// What every fuzz target shares: the repository's paths, a scratch directory in memory-backed storage, and
/// a way to wait for async code from libFuzzer's synchronous callback.
public enum FuzzSupport {
    /// The repository root, found from this file's path (Fuzz/Support/FuzzSupport.swift).
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func fixture(_ relativePath: String) -> URL {
        repository.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relativePath)
    }

    /// A per-process scratch directory (tmpfs when there is one: targets write files on every input).
    public static let scratch: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/rosetta-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `bytes` to `path`, replacing it; a failure here is the harness's, so it stops the run.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("fuzz harness: cannot write \(path)")
        }
    }

    /// Runs `body` to completion and returns its result, blocking the calling (libFuzzer) thread.
    public static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            box.value = await body()
            done.signal()
        }
        done.wait()
        guard let value = box.value else { fatalError("fuzz harness: task finished without a result") }
        return value
    }

    /// When ROSETTA_FUZZ_WRITE_SEEDS names a directory, `write` the target's generated seeds there (by name).
    /// Used by Fuzz/make-seeds for the corpora that our own writers produce (log, snapshot, requests).
    public static func writeSeedsIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
        guard let directory = ProcessInfo.processInfo.environment["ROSETTA_FUZZ_WRITE_SEEDS"] else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for seed in seeds() { write(seed.bytes, to: directory + "/" + seed.name) }
        exit(0)
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
