import Foundation
import Synchronization

/// The live progress of `rosetta index` on stderr: a line redrawn in place when stderr is a terminal,
/// otherwise a plain line every few seconds (for logs and CI).
final class IndexProgress: Sendable {
    private struct State {
        var done = 0
        var failed = 0
    }

    let total: Int
    private let state = Mutex(State())
    private let start = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = total }

    func record(done: Int, failed: Int) {
        state.withLock {
            $0.done += done
            $0.failed += failed
        }
    }

    var elapsedSeconds: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Redraws until the calling Task is cancelled, then writes the last state once more.
    func report() async {
        let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(5)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            write(line())
        }
        write(line())
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func line() -> String {
        let (done, failed) = state.withLock { ($0.done, $0.failed) }
        let seconds = elapsedSeconds
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 ? Self.duration(Double(total - done) / rate) : "?"
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "[\(bar)] \(done)/\(total) items  \(String(format: "%.1f", rate)) items/s  ETA \(eta)  errors \(failed)"
    }

    private func write(_ line: String) {
        let text = isTerminal ? "\r\u{1B}[K" + line : "index: " + line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// 75 -> "1:15".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600
            ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
            : String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
