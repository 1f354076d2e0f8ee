import Dispatch
import Synchronization

/// Runs CPU-bound model work off Swift's cooperative thread pool.
///
/// Forward passes are BLAS calls that use every core themselves, so they run one at a time on a serial
/// queue: running two at once on two cores only makes both slower, and blocking the cooperative pool would
/// stall every other request (health checks and Info included).
public final class InferenceQueue: Sendable {
    private let queue = DispatchQueue(label: "rosetta.inference", qos: .userInitiated)

    public init() {}

    /// Runs `body` on the queue. Returns nil, without running it, when the calling task was cancelled
    /// while it waited (a client that went away or a deadline that passed).
    /// `waited` is the time spent in the queue before `body` started.
    public func run<T: Sendable>(
        _ body: @escaping @Sendable () -> T
    ) async -> (value: T, waited: Duration, ran: Duration)? {
        let enqueued = ContinuousClock.now
        let cancelled = CancellationFlag()
        ServiceMetrics.inferenceQueueDepth.increment()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    defer { ServiceMetrics.inferenceQueueDepth.decrement() }
                    let started = ContinuousClock.now
                    guard !cancelled.isSet else { return continuation.resume(returning: nil) }
                    let value = body()
                    continuation.resume(returning: (value, started - enqueued, ContinuousClock.now - started))
                }
            }
        } onCancel: {
            cancelled.set()
        }
    }
}

/// A flag set once, from any thread.
final class CancellationFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
