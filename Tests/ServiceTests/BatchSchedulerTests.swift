import Foundation
import Testing
@testable import RPC
@testable import Service
import Spaces
import Synchronization

/// The batch scheduler with an in-process model: merging, splitting back, budgets, back-pressure,
/// cancellation and the latency budget. Most tests hold the model inside a first forward so that the
/// requests that follow queue up behind it, which makes the merging deterministic.
@Suite struct BatchSchedulerTests {
    func scheduler(_ configure: (inout BatchSettings) -> Void = { _ in }) -> BatchScheduler {
        var settings = BatchSettings()
        configure(&settings)
        return BatchScheduler(settings: settings, mayRunInline: { ReceivingThread.isCurrent })
    }

    func strings(_ request: Int, count: Int) -> [String] {
        (0..<count).map { "request \(request) input \($0)" }
    }

    func texts(_ request: Int, count: Int) -> [SpaceInput] {
        strings(request, count: count).map(SpaceInput.text)
    }

    func texts(of run: BatchScheduler.Run) throws -> [String] {
        try run.outcomes.map { RecordingModel.text(try $0.get().values) }
    }

    /// Starts a forward that stays in the model until `model.release()`: what follows queues behind it.
    func occupy(_ scheduler: BatchScheduler, _ model: RecordingModel) async throws -> Task<BatchScheduler.Run, any Error> {
        model.hold()
        let first = Task { try await scheduler.embed([.text("first")], model: model, options: EmbeddingOptions()) }
        try await eventually { model.callCount == 1 }
        return first
    }

    /// Waits until `condition` holds; gives up after 10,000 checks at least 1 ms apart. Counting checks, not wall
    /// time, keeps a starved test (other suites' synchronous work holding the cooperative threads) from timing out.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<10_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        guard condition() else { throw TimedOut() }
    }
    struct TimedOut: Error {}

    @Test func concurrentRequestsShareForwardsAndEachGetsItsOwnVectorsInOrder() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        let runs = (0..<8).map { request in
            Task { try await scheduler.embed(texts(request, count: 3), model: model, options: EmbeddingOptions()) }
        }
        try await eventually { scheduler.waitingItems == 24 }
        model.release()
        for (request, run) in runs.enumerated() {
            let result = try await run.value
            #expect(try texts(of: result) == strings(request, count: 3))
            #expect(result.ran > .zero && result.waited > .zero)
        }
        _ = try await first.value
        // The first forward, then the 24 inputs of 8 requests in one.
        #expect(model.recorded.map(\.texts.count) == [1, 24])
    }

    @Test func concurrentClientsOfASlowModelNeedFewerForwardsThanRequests() async throws {
        let model = RecordingModel(delay: .milliseconds(5))
        let scheduler = scheduler()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for request in 0..<32 {
                group.addTask {
                    let run = try await scheduler.embed(texts(request, count: 1), model: model, options: EmbeddingOptions())
                    #expect(try texts(of: run) == ["request \(request) input 0"])
                }
            }
            try await group.waitForAll()
        }
        #expect(model.callCount < 32)
        #expect(model.recorded.reduce(0) { $0 + $1.texts.count } == 32)
    }

    @Test func differentOptionsAndModelsNeverShareAForward() async throws {
        let model = RecordingModel()
        let other = RecordingModel(id: "other")
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        let query = EmbeddingOptions(instruction: .prompt(name: "query"))
        let cls = EmbeddingOptions(pooling: .cls)
        let runs = [
            Task { try await scheduler.embed([.text("plain 1")], model: model, options: EmbeddingOptions()) },
            Task { try await scheduler.embed([.text("query 1")], model: model, options: query) },
            Task { try await scheduler.embed([.text("cls 1")], model: model, options: cls) },
            Task { try await scheduler.embed([.text("other 1")], model: other, options: EmbeddingOptions()) },
            Task { try await scheduler.embed([.text("query 2")], model: model, options: query) },
            Task { try await scheduler.embed([.text("plain 2")], model: model, options: EmbeddingOptions()) },
        ]
        try await eventually { scheduler.waitingItems == 6 }
        model.release()
        for run in runs { _ = try await run.value }
        _ = try await first.value

        // The requests arrive in any order; what matters is who shares a forward, with which options.
        let calls = model.recorded.dropFirst()
        let expected: [Set<String>: EmbeddingOptions] = [
            ["plain 1", "plain 2"]: EmbeddingOptions(), ["query 1", "query 2"]: query, ["cls 1"]: cls,
        ]
        #expect(calls.count == 3)
        for call in calls { #expect(expected[Set(call.texts)] == call.options) }
        #expect(other.recorded.map(\.texts) == [["other 1"]])
    }

    @Test func aFailingInputFailsAloneInAMergedForward() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        let good = Task { try await scheduler.embed([.text("fine"), .text("also fine")], model: model, options: EmbeddingOptions()) }
        let mixed = Task { try await scheduler.embed([.text("FAIL me"), .text("ok")], model: model, options: EmbeddingOptions()) }
        try await eventually { scheduler.waitingItems == 4 }
        model.release()
        let goodRun = try await good.value
        #expect(try texts(of: goodRun) == ["fine", "also fine"])
        let outcomes = try await mixed.value.outcomes
        #expect(throws: RecordingModel.Failure.self) { try outcomes[0].get() }
        #expect(RecordingModel.text(try outcomes[1].get().values) == "ok")
        _ = try await first.value
        #expect(model.callCount == 2)
    }

    @Test func aFullQueueRefusesAtOnceWithResourceExhausted() async throws {
        let model = RecordingModel()
        let scheduler = scheduler { $0.maxQueuedItems = 4 }
        let first = try await occupy(scheduler, model)
        let queued = Task { try await scheduler.embed(texts(1, count: 3), model: model, options: EmbeddingOptions()) }
        try await eventually { scheduler.waitingItems == 3 }
        // The model is still held: the refusal cannot have waited for it.
        do {
            _ = try await scheduler.embed(texts(2, count: 2), model: model, options: EmbeddingOptions())
            Issue.record("a request past the queue limit was accepted")
        } catch {
            let status = RPCStatus(mapping: error)
            #expect(status.code == .resourceExhausted)
            #expect(status.message.contains("queue limit of 4") && status.message.contains("--queue-max-items"))
        }
        model.release()
        let queuedRun = try await queued.value
        #expect(queuedRun.outcomes.count == 3)
        _ = try await first.value
        #expect(model.recorded.flatMap(\.texts).allSatisfy { !$0.hasPrefix("request 2") })
    }

    @Test func aCancelledRequestLeavesTheQueueAndNeverReachesTheModel() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        let cancelled = Task { try await scheduler.embed([.text("never run")], model: model, options: EmbeddingOptions()) }
        let kept = Task { try await scheduler.embed([.text("kept")], model: model, options: EmbeddingOptions()) }
        try await eventually { scheduler.waitingItems == 2 }
        cancelled.cancel()
        // Its task ends while the model is still held, and its input has left the queue.
        await #expect(throws: ServiceError.cancelled) { try await cancelled.value }
        #expect(scheduler.waitingItems == 1)
        model.release()
        let keptRun = try await kept.value
        #expect(try texts(of: keptRun) == ["kept"])
        _ = try await first.value
        #expect(!model.recorded.flatMap(\.texts).contains("never run"))
    }

    @Test func aRequestCancelledDuringItsForwardEndsAtOnceAndItsOutcomesAreDropped() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        first.cancel()
        await #expect(throws: ServiceError.cancelled) { try await first.value }
        model.release()
        // The scheduler goes on serving.
        let next = try await scheduler.embed([.text("next")], model: model, options: EmbeddingOptions())
        #expect(try texts(of: next) == ["next"])
    }

    @Test func anAlreadyCancelledTaskQueuesNothing() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let task = Task {
            while !Task.isCancelled { await Task.yield() }
            return try await scheduler.embed([.text("late")], model: model, options: EmbeddingOptions())
        }
        task.cancel()
        await #expect(throws: ServiceError.cancelled) { try await task.value }
        #expect(model.callCount == 0 && scheduler.waitingItems == 0)
    }

    @Test func forwardsRespectTheItemAndTokenBudgets() async throws {
        let model = RecordingModel(maxTokens: 64)
        // "request N input M" is 17 bytes, 8 estimated tokens: 3 inputs per forward.
        let scheduler = scheduler { $0.maxItems = 5; $0.maxTokens = 30 }
        let first = try await occupy(scheduler, model)
        let runs = (0..<6).map { request in
            Task { try await scheduler.embed(texts(request, count: 2), model: model, options: EmbeddingOptions()) }
        }
        try await eventually { scheduler.waitingItems == 12 }
        model.release()
        for (request, run) in runs.enumerated() {
            let result = try await run.value
            #expect(try texts(of: result) == strings(request, count: 2))
        }
        _ = try await first.value
        for call in model.recorded.dropFirst() {
            let tokens = call.texts.reduce(0) { $0 + SpaceInput.text($1).estimatedTokens(maxTokens: 64, options: EmbeddingOptions()) }
            #expect(call.texts.count <= 5 && tokens <= 30)
        }
        #expect(model.recorded.dropFirst().reduce(0) { $0 + $1.texts.count } == 12)
    }

    /// A model whose forward runs until the space is told its caller is gone, as a long transcription does.
    final class StopsWhenAbandoned: EmbeddingSpace, @unchecked Sendable {
        let description = SpaceDescription(
            id: "steps", architecture: "fake", modalities: [.text], dimensions: 1, maxTokens: 8, space: "steps-space",
            defaultPooling: .mean, promptNames: [], isDefault: true, takesInstructions: true)
        private let started = Mutex(false)
        var hasStarted: Bool { started.withLock { $0 } }

        func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
            started.withLock { $0 = true }
            let giveUp = ContinuousClock.now + .seconds(30)
            return inputs.indices.map { i in
                while !abandoned(i) {
                    guard ContinuousClock.now < giveUp else { return .success(EmbeddedVector(values: [1])) }
                    Thread.sleep(forTimeInterval: 0.001)
                }
                return .failure(SpaceError.abandoned)
            }
        }
    }

    @Test func aCancelledRequestsRunningForwardIsToldToStopAndTheWorkerIsFreeAgain() async throws {
        let model = StopsWhenAbandoned()
        let scheduler = scheduler()
        let running = Task { try await scheduler.embed([.text("long")], model: model, options: EmbeddingOptions()) }
        try await eventually { model.hasStarted }
        running.cancel()
        await #expect(throws: ServiceError.cancelled) { try await running.value }
        // The worker is free again once the forward stopped: a later request runs (it would wait 30 s otherwise).
        let started = ContinuousClock.now
        let next = try await scheduler.embed(texts(1, count: 1), model: RecordingModel(), options: EmbeddingOptions())
        #expect(try texts(of: next) == strings(1, count: 1))
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func aSequentialClientIsNeverDelayedByTheLatencyBudget() async throws {
        let model = RecordingModel()
        // A budget so long that a request held for it could not pass for scheduling delay, however loaded the
        // machine (a fully loaded 2-core run of the whole suite took up to 0.4 s per request here).
        let scheduler = scheduler { $0.maxDelay = .seconds(30) }
        for request in 0..<20 {
            let run = try await scheduler.embed(texts(request, count: 2), model: model, options: EmbeddingOptions())
            #expect(run.waited < .seconds(15), "request \(request) waited \(run.waited): held for the latency budget")
        }
        #expect(model.callCount == 20)
    }

    /// Starts `embed` the way a unary call's handler starts on the grpc++ thread that read its request.
    func embedOnReceivingThread(_ scheduler: BatchScheduler, _ model: RecordingModel, _ inputs: [SpaceInput])
        -> (task: Task<BatchScheduler.Run, any Error>, thread: pthread_t)
    {
        let task = ReceivingThread.run {
            Task.immediate { try await scheduler.embed(inputs, model: model, options: EmbeddingOptions()) }
        }
        return (task, pthread_self())
    }

    @Test func aLoneRequestOnTheReceivingThreadRunsThereAtOnce() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let (task, thread) = embedOnReceivingThread(scheduler, model, texts(0, count: 2))
        #expect(model.callCount == 1)  // before Task.immediate returned: no hop to the worker
        #expect(model.recorded.first.map { pthread_equal($0.thread, thread) != 0 } == true)
        #expect(try texts(of: try await task.value) == strings(0, count: 2))
    }

    @Test func aLoneMediaRequestOnTheReceivingThreadGoesToTheWorker() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let (task, thread) = embedOnReceivingThread(scheduler, model, [.image(MediaBytes(data: Data([1])))])
        _ = try await task.value
        // Its forward can be long; on the worker, the call's cancellation can reach it.
        #expect(model.recorded.first.map { pthread_equal($0.thread, thread) == 0 } == true)
    }

    @Test func aLoneRequestOverTheForwardBudgetIsSplitByTheQueue() async throws {
        let model = RecordingModel()
        let scheduler = scheduler { $0.maxItems = 2 }
        let (task, _) = embedOnReceivingThread(scheduler, model, texts(0, count: 5))
        #expect(try texts(of: try await task.value) == strings(0, count: 5))
        #expect(model.recorded.map(\.texts.count) == [2, 2, 1])
    }

    @Test func aRequestOnTheReceivingThreadQueuesBehindARunningForward() async throws {
        let model = RecordingModel()
        let scheduler = scheduler()
        let first = try await occupy(scheduler, model)
        let (task, _) = embedOnReceivingThread(scheduler, model, texts(1, count: 1))
        try await eventually { scheduler.waitingItems == 1 }
        #expect(model.callCount == 1)  // forwards never overlap
        model.release()
        #expect(try texts(of: try await task.value) == strings(1, count: 1))
        _ = try await first.value
        #expect(model.callCount == 2)
    }

    @Test func afterMergedForwardsTheNextForwardWaitsForCompany() async throws {
        let model = RecordingModel()
        // A budget far beyond any stall of a loaded machine: the lone request must wait for company, not for it.
        let scheduler = scheduler { $0.maxDelay = .seconds(120) }
        // A merged forward of two requests is the evidence of concurrent load.
        let first = try await occupy(scheduler, model)
        let pair = (0..<2).map { request in
            Task { try await scheduler.embed(texts(request, count: 1), model: model, options: EmbeddingOptions()) }
        }
        try await eventually { scheduler.waitingItems == 2 }
        model.release()
        for run in pair { _ = try await run.value }
        _ = try await first.value
        // The next request waits (well under the budget) for a second one, and they share a forward.
        let lone = Task { try await scheduler.embed(texts(3, count: 1), model: model, options: EmbeddingOptions()) }
        try await eventually { scheduler.waitingItems == 1 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(model.callCount == 2)
        let company = try await scheduler.embed(texts(4, count: 1), model: model, options: EmbeddingOptions())
        _ = try await lone.value
        #expect(company.waited < .seconds(60))
        #expect(model.recorded.last?.texts.count == 2 && model.callCount == 3)
    }
}
