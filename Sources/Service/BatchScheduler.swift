import Foundation
import Spaces
import Synchronization

/// Runs the model work of every handler (Embed, EmbedStream, and Search and Upsert with raw inputs) and
/// merges the requests for one model with equal options that wait at the same time into one `model.embed`
/// call, one forward pass; each request gets back its own outcomes, in order. Which inputs share a forward,
/// and when a forward waits to fill, is `BatchQueue`'s job; the limits are `BatchSettings`.
///
/// Forwards run one at a time on the scheduler's own worker thread, off Swift's cooperative pool: a forward
/// uses every core itself (OpenBLAS, the encoders' own threads), so two at once only make both slower, and
/// blocking the cooperative pool would stall every other call (health checks and Info included). The one
/// exception is a lone text request: when nothing waits or runs and its model shows no concurrent load, a
/// request of texts only on a thread where `mayRunInline` is true (the server passes RPC's
/// `ReceivingThread.isCurrent`: a grpc++ thread, not one of the cooperative pool) runs its forward right there,
/// which saves the two thread wake-ups of the hand-off to the worker and back (BatchQueue rule 6). Images and
/// audio always go to the worker: their forwards are long, and a call's cancellation cannot reach a forward
/// that runs on that call's own receiving thread (grpc++ runs one call's events one at a time).
///
/// A request whose task is cancelled (the client went away, its deadline passed) leaves the queue at once and
/// throws `ServiceError.cancelled`; if some of its inputs are already in a running forward, the space stops
/// their work at its next step (`Abandonment`: between audio windows and decoding steps, image batches, text
/// chunks) and their outcomes are dropped. A request that would take the queue past `maxQueuedItems` throws `ServiceError.overloaded` at
/// once, without queueing anything.
public final class BatchScheduler: Sendable {
    /// One request's outcomes and where its time went: `waited` is everything but its forwards (from enqueue to
    /// the end of its last forward), `ran` the time of the forwards that carried its inputs.
    public struct Run: Sendable {
        public var outcomes: [Result<EmbeddedVector, any Error>]
        public var waited: Duration
        public var ran: Duration
    }

    public let settings: BatchSettings
    private let mayRunInline: @Sendable () -> Bool
    private let worker: Worker
    private let ids = Atomic<Int>(0)

    /// `mayRunInline`: whether the calling thread may run a lone request's forward itself (never the cooperative
    /// pool's threads); false by default.
    public init(settings: BatchSettings = BatchSettings(), mayRunInline: @escaping @Sendable () -> Bool = { false }) {
        self.settings = settings
        self.mayRunInline = mayRunInline
        worker = Worker(queue: BatchQueue(settings: settings))
        let thread = Thread { [worker] in worker.run() }
        thread.name = "rosetta-inference"
        thread.start()
    }

    deinit {
        // No request can be waiting: each holds the scheduler until it returns.
        worker.stop()
    }

    /// Inputs waiting for a forward (not those in one).
    var waitingItems: Int { worker.waitingItems }

    /// Embeds `inputs` with `model`, merged with other requests' inputs of the same model and options.
    /// Throws `ServiceError.overloaded` (queue full) or `ServiceError.cancelled` (task cancelled).
    public func embed(_ inputs: [SpaceInput], model: any EmbeddingSpace, options: EmbeddingOptions) async throws -> Run {
        guard !inputs.isEmpty else { return Run(outcomes: [], waited: .zero, ran: .zero) }
        let key = BatchQueue.Key(model: model.description, options: options)
        let costs = inputs.map { $0.estimatedTokens(maxTokens: model.description.maxTokens, options: options) }
        if mayRunInline(), inputs.allSatisfy({ $0.modality == .text }),
            let run = worker.runAlone(model: model, options: options, inputs: inputs, key: key, costs: costs)
        {
            return run
        }
        let id = ids.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                worker.submit(Job(model: model, options: options, inputs: inputs, continuation: continuation),
                              id: id, key: key, costs: costs)
            }
        } onCancel: {
            worker.cancel(id)
        }
    }
}

/// A model broke `EmbeddingSpace.embed`'s contract (one outcome per input): a server fault (INTERNAL).
struct MissingOutcome: Error, CustomStringConvertible {
    let model: String
    var description: String { "model '\(model)' returned fewer outcomes than inputs" }
}

/// A request in the scheduler: its inputs, the outcomes so far, and who waits for them.
private struct Job {
    let model: any EmbeddingSpace
    let options: EmbeddingOptions
    let inputs: [SpaceInput]
    let continuation: CheckedContinuation<BatchScheduler.Run, any Error>
    var outcomes: [Result<EmbeddedVector, any Error>?]
    var remaining: Int
    var enqueued = ContinuousClock.now
    var ran: Duration = .zero

    init(model: any EmbeddingSpace, options: EmbeddingOptions, inputs: [SpaceInput],
         continuation: CheckedContinuation<BatchScheduler.Run, any Error>) {
        self.model = model
        self.options = options
        self.inputs = inputs
        self.continuation = continuation
        outcomes = Array(repeating: nil, count: inputs.count)
        remaining = inputs.count
    }
}

/// The worker thread's loop and the state it shares with the submitting tasks. Every stored property but
/// `condition` is read and written only with `condition` locked, which is what makes it Sendable.
private final class Worker: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: BatchQueue
    private var jobs: [Int: Job] = [:]
    private var stopping = false
    /// A forward is running (the worker's, or a lone request's on its own thread): the next waits for it.
    private var forwarding = false

    init(queue: BatchQueue) {
        self.queue = queue
    }

    /// Queues a job (its queue key and its inputs' estimated costs), or finishes it at once: cancelled already,
    /// or refused (queue full).
    func submit(_ job: Job, id: Int, key: BatchQueue.Key, costs: [Int]) {
        condition.lock()
        defer { condition.unlock() }
        // Checked under the lock: a cancellation either ran before (and found nothing to cancel) or runs after.
        guard !Task.isCancelled else { return job.continuation.resume(throwing: ServiceError.cancelled) }
        do {
            try queue.admit(request: id, key: key, costs: costs, at: job.enqueued)
        } catch {
            ServiceMetrics.inferenceRejected.increment()
            return job.continuation.resume(throwing: error)
        }
        jobs[id] = job
        ServiceMetrics.inferenceQueueDepth.increment()
        ServiceMetrics.inferenceQueuedItems.set(queue.waitingItems)
        condition.signal()
    }

    /// Drops the job's waiting inputs and ends it with `ServiceError.cancelled`; outcomes of its inputs in a
    /// running forward are dropped when that forward ends.
    func cancel(_ id: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard let job = jobs.removeValue(forKey: id) else { return }
        queue.remove(request: id)
        ServiceMetrics.inferenceQueueDepth.decrement()
        ServiceMetrics.inferenceQueuedItems.set(queue.waitingItems)
        job.continuation.resume(throwing: ServiceError.cancelled)
        condition.signal()  // the forward the worker waits to fill may have lost its seed
    }

    var waitingItems: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.waitingItems
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// The worker thread: picks forwards and runs them until stopped.
    func run() {
        condition.lock()
        defer { condition.unlock() }
        while !stopping {
            if forwarding {
                condition.wait()
                continue
            }
            switch queue.next(at: .now) {
            case .idle:
                condition.wait()
            case .wait(let until):
                let seconds = (until - ContinuousClock.now) / .seconds(1)
                _ = condition.wait(until: Date(timeIntervalSinceNow: max(0, seconds)))
            case .run(let batch):
                forward(batch)
            }
        }
    }

    /// Runs one forward, with the lock released while the model computes.
    private func forward(_ batch: BatchQueue.Batch) {
        ServiceMetrics.inferenceQueuedItems.set(queue.waitingItems)
        // Cancelling a job takes its items out of the queue, so every item's job is there; filtered all the same.
        let items = batch.items.filter { jobs[$0.request] != nil }
        guard let first = items.first, let job = jobs[first.request] else { return }
        let inputs = items.compactMap { jobs[$0.request]?.inputs[$0.position] }

        forwarding = true
        condition.unlock()
        let abandoned = Abandonment { [self] offset in
            condition.lock()
            defer { condition.unlock() }
            return jobs[items[offset].request] == nil
        }
        let (outcomes, ran) = Self.compute(
            inputs, model: job.model, options: job.options, abandoned: abandoned, requests: Set(items.map(\.request)).count)
        condition.lock()
        forwarding = false

        var touched: Set<Int> = []
        for (offset, item) in items.enumerated() {
            guard jobs[item.request] != nil else { continue }  // cancelled while it ran: dropped
            let outcome = outcomes[offset]
            jobs[item.request]?.outcomes[item.position] = outcome
            jobs[item.request]?.remaining -= 1
            touched.insert(item.request)
        }
        let finished = ContinuousClock.now
        for id in touched {
            jobs[id]?.ran += ran
            guard let job = jobs[id], job.remaining == 0 else { continue }
            jobs[id] = nil
            finish(job, at: finished)
        }
    }

    /// Runs one request's inputs as a forward on the calling thread, at once, if the queue allows it (BatchQueue
    /// rule 6) and no forward is running; nil when the request has to queue.
    func runAlone(model: any EmbeddingSpace, options: EmbeddingOptions, inputs: [SpaceInput], key: BatchQueue.Key,
                  costs: [Int]) -> BatchScheduler.Run? {
        let arrived = ContinuousClock.now
        condition.lock()
        guard !stopping, !forwarding, !Task.isCancelled, queue.mayRunAlone(key, costs: costs) else {
            condition.unlock()
            return nil
        }
        forwarding = true
        condition.unlock()
        let waited = ContinuousClock.now - arrived
        // The forward runs in the request's own task: its cancellation is the task's.
        let (outcomes, ran) = Self.compute(inputs, model: model, options: options, abandoned: Abandonment { _ in Task.isCancelled },
                                           requests: 1)
        condition.lock()
        forwarding = false
        condition.signal()  // requests that came meanwhile wait for the worker
        condition.unlock()
        ServiceMetrics.inferenceQueueTime.recordNanoseconds(Int64(clamping: waited.nanoseconds))
        ServiceMetrics.inferenceComputeTime.recordNanoseconds(Int64(clamping: ran.nanoseconds))
        return BatchScheduler.Run(outcomes: outcomes, waited: waited, ran: ran)
    }

    /// One forward: `model.embedWithPreviews` (the previews too when the options ask) timed and counted, one
    /// outcome per input (`MissingOutcome` for those the model left out).
    private static func compute(
        _ inputs: [SpaceInput], model: any EmbeddingSpace, options: EmbeddingOptions, abandoned: Abandonment, requests: Int
    ) -> (outcomes: [Result<EmbeddedVector, any Error>], ran: Duration) {
        let started = ContinuousClock.now
        let outcomes = model.embedWithPreviews(inputs, options: options, abandoned: abandoned)
        let ran = ContinuousClock.now - started
        ServiceMetrics.forwardItems.record(inputs.count)
        ServiceMetrics.forwardRequests.record(requests)
        return (inputs.indices.map { $0 < outcomes.count ? outcomes[$0] : .failure(MissingOutcome(model: model.description.id)) }, ran)
    }

    private func finish(_ job: Job, at finished: ContinuousClock.Instant) {
        let waited = finished - job.enqueued - job.ran
        ServiceMetrics.inferenceQueueDepth.decrement()
        ServiceMetrics.inferenceQueueTime.recordNanoseconds(Int64(clamping: waited.nanoseconds))
        ServiceMetrics.inferenceComputeTime.recordNanoseconds(Int64(clamping: job.ran.nanoseconds))
        job.continuation.resume(returning: BatchScheduler.Run(
            outcomes: job.outcomes.map { $0 ?? .failure(ServiceError.cancelled) }, waited: waited, ran: job.ran))
    }
}
