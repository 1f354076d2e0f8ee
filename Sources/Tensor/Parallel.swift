import Dispatch
import Foundation
import Synchronization

/// Fork-join over a fixed number of workers.
///
/// Rosetta parallelises the encoder itself — whole sequences per worker for batches, GEMM column blocks and
/// attention heads for a single sequence — and runs OpenBLAS single-threaded inside each worker: on the small
/// per-layer GEMMs of sentence encoders, OpenBLAS's own thread hand-off costs more than it gains (bench/text).
///
/// A forward pass of one short sentence forks and joins ~30 times in ~2 ms, so the hand-off itself must cost
/// microseconds, not the tens of microseconds of waking a sleeping thread: `forEach` runs on `SpinningPool`,
/// whose threads keep polling for a while after each job (as ONNX Runtime's and OpenMP's pools do), and falls
/// back to GCD's `concurrentPerform` when the pool is taken (nested or concurrent fork-joins).
public enum Parallel {
    /// Runs `body(0) ..< body(count)`, concurrently when `count > 1`; returns when all have finished.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        if !SpinningPool.shared.run(count, body) {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Splits 0..<total into at most `parts` contiguous ranges whose sizes are multiples of `align` (except the
    /// last), for column blocks that keep vector loads aligned.
    public static func blocks(_ total: Int, parts: Int, align: Int = 16) -> [Range<Int>] {
        guard parts > 1, total > align else { return total > 0 ? [0..<total] : [] }
        let size = ((total + parts - 1) / parts + align - 1) / align * align
        return stride(from: 0, to: total, by: size).map { $0 ..< min($0 + size, total) }
    }
}

/// A pool of (cores − 1) threads that run one fork-join job at a time together with the calling thread.
///
/// A job is published in one atomic word — generation, iteration count and next unclaimed iteration — so a
/// thread claims an iteration with one compare-and-swap that also proves the job it read is still the current
/// one: a thread that wakes late can never run an iteration of a finished job. Idle threads poll for
/// `spinDuration`, then sleep on a semaphore until the next job. Every wait — an idle thread's polling, the
/// caller's wait for the iterations others claimed — yields the core between checks (`sched_yield`: immediate
/// when nothing else is runnable): on 2 cores shared with gRPC's threads and a client, a pure spin could hold the
/// core a preempted worker needed for a whole scheduler slice (measured: bench/rpc/README.md).
final class SpinningPool: Sendable {
    static let shared = SpinningPool(threads: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// Polling time after the last job before a thread sleeps: longer than most gaps between the fork-joins of
    /// one forward pass (a thread that sleeps through one only leaves its iterations to the others), short
    /// enough that a server's pool does not hold a core while gRPC sends the answer and the client takes it
    /// (measured: bench/rpc/README.md).
    static let spinDuration: Duration = .microseconds(20)

    // state = generation << 40 | count << 20 | next; count and next < 2^20.
    private static let fieldBits: UInt64 = 20
    private static let fieldMask: UInt64 = (1 << 20) - 1
    private let state = Atomic<UInt64>(0)
    private let finished = Atomic<Int>(0)
    private let body = Atomic<UInt>(0)  // the current JobBox's address
    private let taken = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    let threads: Int

    init(threads: Int) {
        self.threads = max(0, threads)
        for _ in 0..<self.threads {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "rosetta.parallel"
            thread.start()
        }
    }

    /// Runs the job with the pool's threads; false (nothing run) when the pool is busy or has no threads.
    func run(_ count: Int, _ job: @Sendable (Int) -> Void) -> Bool {
        guard threads > 0, UInt64(count) <= Self.fieldMask,
              taken.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { taken.store(false, ordering: .releasing) }
        withoutActuallyEscaping(job) { job in
            let box = JobBox(job)
            withExtendedLifetime(box) {
                finished.store(0, ordering: .relaxed)
                body.store(UInt(bitPattern: Unmanaged.passUnretained(box).toOpaque()), ordering: .relaxed)
                let generation = (state.load(ordering: .relaxed) >> (2 * Self.fieldBits)) + 1
                state.store(generation << (2 * Self.fieldBits) | UInt64(count) << Self.fieldBits,
                            ordering: .sequentiallyConsistent)
                let asleep = sleepers.load(ordering: .sequentiallyConsistent)
                for _ in 0..<min(asleep, count - 1) { wake.signal() }
                work(generation: generation)
                while finished.load(ordering: .acquiring) < count { sched_yield() }
            }
        }
        return true
    }

    /// Claims and runs iterations of job `generation` until none is left (or a newer job replaced it).
    private func work(generation: UInt64) {
        var current = state.load(ordering: .acquiring)
        while current >> (2 * Self.fieldBits) == generation {
            let count = (current >> Self.fieldBits) & Self.fieldMask, next = current & Self.fieldMask
            guard next < count else { return }
            let claimed = state.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            guard claimed.exchanged else {
                current = claimed.original
                continue
            }
            // The job read after seeing `generation` is that job's: the next one is published only once every
            // iteration of this one — including the one just claimed — has finished.
            guard let pointer = UnsafeRawPointer(bitPattern: body.load(ordering: .acquiring)) else { return }
            Unmanaged<JobBox>.fromOpaque(pointer).takeUnretainedValue().body(Int(next))
            finished.add(1, ordering: .releasing)
            current = state.load(ordering: .acquiring)
        }
    }

    private func workerLoop() {
        var seen: UInt64 = 0
        while true {
            var idleSince = ContinuousClock.now
            var generation = state.load(ordering: .acquiring) >> (2 * Self.fieldBits)
            while generation == seen {
                // Polling, paced by the clock read and the yield.
                if ContinuousClock.now - idleSince >= Self.spinDuration {
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    if state.load(ordering: .sequentiallyConsistent) >> (2 * Self.fieldBits) == seen { wake.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    idleSince = ContinuousClock.now
                }
                sched_yield()
                generation = state.load(ordering: .acquiring) >> (2 * Self.fieldBits)
            }
            seen = generation
            work(generation: generation)
        }
    }
}

/// The job of one `SpinningPool.run`, alive for the whole call.
private final class JobBox: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping @Sendable (Int) -> Void) { self.body = body }
}
