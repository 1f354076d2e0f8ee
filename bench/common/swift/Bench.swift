// Timing and the SGEMM peak shared by the rosetta-bench-* executables (bench/text, bench/vision).
import Foundation
import Tensor

public enum Bench {
    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// CPU seconds used by this process (all threads): with `now()`, how much of the wall time the machine gave.
    public static func cpuTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs `body` repeatedly for at least `seconds` (after one warm-up call); returns calls per second.
    public static func rate(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var calls = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            try body()
            calls += 1
            elapsed = now() - start
        } while elapsed < seconds
        return Double(calls) / elapsed
    }

    /// The SGEMM peak of the linked OpenBLAS on `threads` cores: square n³ products, large enough to reach the
    /// kernel's steady state, measured two ways — OpenBLAS using `threads` threads on one product, and `threads`
    /// single-threaded products at once (how Rosetta's encoders use BLAS) — the larger is the peak. Restores
    /// OpenBLAS's thread count. Returns one JSON object: {"kind":"sgemm","gflops":..,...}.
    public static func sgemmPeak(threads: Int, seconds: Double, n: Int = 1536) throws -> String {
        let previous = BLAS.threadCount
        defer { BLAS.setThreadCount(previous) }
        let operands = (0..<threads).map { _ in (Tensor(zeros: [n, n]), Tensor(zeros: [n, n]), Tensor(zeros: [n, n])) }
        for (a, b, _) in operands {
            for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
        }
        let flop = 2 * Double(n * n * n) / 1e9
        BLAS.setThreadCount(threads)
        let (a, b, c) = operands[0]
        let blasThreaded = try rate(seconds: seconds) { try Ops.matmul(a, b, transposeB: true, into: c) } * flop
        BLAS.setThreadCount(1)
        let concurrent = rate(seconds: seconds) {
            Parallel.forEach(threads) { t in
                let (a, b, c) = operands[t]
                try? Ops.matmul(a, b, transposeB: true, into: c)
            }
        } * flop * Double(threads)
        return #"{"kind":"sgemm","n":\#(n),"threads":\#(threads),"gflops":\#(max(blasThreaded, concurrent)),"#
            + #""blas_threaded_gflops":\#(blasThreaded),"concurrent_gflops":\#(concurrent),"core":"\#(BLAS.coreName)"}"#
    }
}
