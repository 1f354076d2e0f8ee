import Dispatch

/// Fork-join over a fixed number of workers (GCD's `concurrentPerform`, which returns when all are done).
///
/// Rosetta parallelises the encoder itself — whole sequences per worker for batches, GEMM column blocks and
/// attention heads for a single sequence — and runs OpenBLAS single-threaded inside each worker: on the small
/// per-layer GEMMs of sentence encoders, OpenBLAS's own thread hand-off costs more than it gains (bench/text).
public enum Parallel {
    /// Runs `body(0) ..< body(count)`, concurrently when `count > 1`; returns when all have finished.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// Splits 0..<total into at most `parts` contiguous ranges whose sizes are multiples of `align` (except the
    /// last), for column blocks that keep vector loads aligned.
    public static func blocks(_ total: Int, parts: Int, align: Int = 16) -> [Range<Int>] {
        guard parts > 1, total > align else { return total > 0 ? [0..<total] : [] }
        let size = ((total + parts - 1) / parts + align - 1) / align * align
        return stride(from: 0, to: total, by: size).map { $0 ..< min($0 + size, total) }
    }
}
