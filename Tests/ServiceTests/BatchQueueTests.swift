import Foundation
import Testing
@testable import Service
import Spaces

/// The rules of `BatchQueue.next`, on a clock the test moves by hand.
@Suite struct BatchQueueTests {
    let start = ContinuousClock.now
    let model = RecordingModel().description
    var plain: BatchQueue.Key { BatchQueue.Key(model: model, options: EmbeddingOptions()) }

    func queue(_ configure: (inout BatchSettings) -> Void = { _ in }) -> BatchQueue {
        var settings = BatchSettings()
        configure(&settings)
        return BatchQueue(settings: settings)
    }

    func batch(_ next: BatchQueue.Next) -> BatchQueue.Batch? {
        if case .run(let batch) = next { return batch }
        return nil
    }

    @Test func emptyQueueIsIdleAndOneRequestRunsAtOnce() throws {
        var queue = queue()
        guard case .idle = queue.next(at: start) else { Issue.record("not idle"); return }
        try queue.admit(request: 1, key: plain, costs: [5, 6], at: start)
        let run = try #require(batch(queue.next(at: start)))
        #expect(run.items.map(\.position) == [0, 1] && run.requests == 1)
        #expect(queue.waitingItems == 0)
    }

    @Test func mergesRequestsOfOneKeyAndNeverOthers() throws {
        var queue = queue()
        let query = BatchQueue.Key(model: model, options: EmbeddingOptions(instruction: .prompt(name: "query")))
        let other = BatchQueue.Key(model: RecordingModel(id: "other").description, options: EmbeddingOptions())
        try queue.admit(request: 1, key: plain, costs: [5], at: start)
        try queue.admit(request: 2, key: query, costs: [5], at: start)
        try queue.admit(request: 3, key: plain, costs: [5, 5], at: start)
        try queue.admit(request: 4, key: other, costs: [5], at: start)
        // Oldest first: request 1's key, which request 3 shares; then query, then the other model.
        let first = try #require(batch(queue.next(at: start)))
        #expect(first.key == plain && first.items.map(\.request) == [1, 3, 3] && first.requests == 2)
        let second = try #require(batch(queue.next(at: start + .seconds(1))))
        #expect(second.key == query && second.items.map(\.request) == [2])
        let third = try #require(batch(queue.next(at: start + .seconds(1))))
        #expect(third.key == other && third.items.map(\.request) == [4])
    }

    @Test func itemAndTokenBudgetsBoundEveryForward() throws {
        var queue = queue { $0.maxItems = 3; $0.maxTokens = 100; $0.maxDelay = .zero }
        for request in 0..<10 { try queue.admit(request: request, key: plain, costs: [40], at: start) }
        try queue.admit(request: 10, key: plain, costs: [5, 5, 5, 5], at: start)
        var sizes: [Int] = []
        while let run = batch(queue.next(at: start)) {
            #expect(run.items.count <= 3)
            #expect(run.items.count == 1 || run.items.reduce(0) { $0 + $1.cost } <= 100)
            sizes.append(run.items.count)
        }
        #expect(sizes.reduce(0, +) == 14 && queue.waitingItems == 0)
        // An input over the token budget still runs, alone.
        try queue.admit(request: 11, key: plain, costs: [500, 5], at: start)
        let alone = batch(queue.next(at: start)), after = batch(queue.next(at: start))
        #expect(alone?.items.map(\.cost) == [500] && after?.items.map(\.cost) == [5])
    }

    @Test func lengthBucketingGroupsSimilarLengthsAroundTheOldest() throws {
        var queue = queue { $0.maxItems = 3 }
        for (request, cost) in [10, 200, 12, 190, 11, 205].enumerated() {
            try queue.admit(request: request, key: plain, costs: [cost], at: start)
        }
        let short = batch(queue.next(at: start)), long = batch(queue.next(at: start))
        #expect(short?.items.map(\.cost) == [10, 12, 11])
        #expect(long?.items.map(\.cost) == [200, 190, 205])
    }

    @Test func mergingOffRunsOneRequestPerForward() throws {
        var queue = queue { $0.maxRequests = 1 }
        try queue.admit(request: 1, key: plain, costs: [5, 5], at: start)
        try queue.admit(request: 2, key: plain, costs: [5], at: start)
        let first = batch(queue.next(at: start)), second = batch(queue.next(at: start))
        #expect(first?.items.map(\.request) == [1, 1] && second?.items.map(\.request) == [2])
    }

    @Test func queueLimitRefusesTheWholeRequest() throws {
        var queue = queue { $0.maxQueuedItems = 4 }
        try queue.admit(request: 1, key: plain, costs: [1, 1, 1], at: start)
        #expect(throws: ServiceError.overloaded(waiting: 3, requested: 2, limit: 4)) {
            try queue.admit(request: 2, key: plain, costs: [1, 1], at: start)
        }
        #expect(queue.waitingItems == 3)
        try queue.admit(request: 3, key: plain, costs: [1], at: start)
        let removed = queue.remove(request: 1)
        #expect(removed == 3 && queue.waitingItems == 1)
    }

    @Test func waitsToFillOnlyAfterAForwardThatMergedSeveralRequests() throws {
        var queue = queue { $0.maxDelay = .milliseconds(2) }
        // No evidence of concurrent load: a single request runs at once, again and again.
        for request in 0..<3 {
            try queue.admit(request: request, key: plain, costs: [5], at: start)
            let run = batch(queue.next(at: start))
            #expect(run?.requests == 1)
        }
        // A forward merged three requests.
        for request in 3..<6 { try queue.admit(request: request, key: plain, costs: [5], at: start) }
        let merged = batch(queue.next(at: start))
        #expect(merged?.requests == 3)
        // The next request waits for company, until the seed's enqueue + maxDelay ...
        let arrived = start + .milliseconds(10)
        try queue.admit(request: 6, key: plain, costs: [5], at: arrived)
        guard case .wait(let until) = queue.next(at: arrived + .microseconds(500)) else {
            Issue.record("expected a wait"); return
        }
        #expect(until == arrived + .milliseconds(2))
        // ... and runs as soon as as many requests as last time are there,
        for request in 7..<9 { try queue.admit(request: request, key: plain, costs: [5], at: arrived) }
        let filled = batch(queue.next(at: arrived + .microseconds(600)))
        #expect(filled?.requests == 3)
        // or when the delay has passed; that forward held one request, so the evidence resets.
        try queue.admit(request: 9, key: plain, costs: [5], at: arrived)
        guard case .wait = queue.next(at: arrived + .milliseconds(1)) else { Issue.record("expected a wait"); return }
        let late = batch(queue.next(at: arrived + .milliseconds(2)))
        #expect(late?.requests == 1)
        try queue.admit(request: 10, key: plain, costs: [5], at: arrived + .milliseconds(3))
        let immediate = batch(queue.next(at: arrived + .milliseconds(3)))
        #expect(immediate != nil)
    }

    @Test func aRequestMayRunAloneOnlyWhenNothingWaitsAndItsKeyShowsNoConcurrentLoad() throws {
        var queue = queue()
        let other = BatchQueue.Key(model: RecordingModel(id: "other").description, options: EmbeddingOptions())
        #expect(queue.mayRunAlone(plain, costs: [5]))
        try queue.admit(request: 1, key: other, costs: [5], at: start)
        #expect(!queue.mayRunAlone(plain, costs: [5]))  // someone is first in line, whatever its model
        _ = queue.next(at: start)
        for request in 2..<4 { try queue.admit(request: request, key: plain, costs: [5], at: start) }
        #expect(batch(queue.next(at: start))?.requests == 2)
        #expect(!queue.mayRunAlone(plain, costs: [5]))  // its last forward merged two requests
        #expect(queue.mayRunAlone(other, costs: [5]))
        try queue.admit(request: 4, key: plain, costs: [5], at: start)
        _ = queue.next(at: start + .seconds(1))  // alone, after the delay: the evidence resets
        #expect(queue.mayRunAlone(plain, costs: [5]))
    }

    @Test func aRequestRunsAloneOnlyWithinOneForwardsBudget() {
        let queue = queue { $0.maxItems = 4; $0.maxTokens = 100; $0.maxQueuedItems = 8 }
        #expect(queue.mayRunAlone(plain, costs: [30, 30, 30]))
        #expect(!queue.mayRunAlone(plain, costs: [30, 30, 30, 30]))  // over the token budget: split by the queue
        #expect(!queue.mayRunAlone(plain, costs: [1, 1, 1, 1, 1]))  // over the item budget
        #expect(queue.mayRunAlone(plain, costs: [500]))  // one input over the budget runs alone anyway (rule 3)
    }

    @Test func aFullBudgetRunsWithoutWaiting() throws {
        var queue = queue { $0.maxItems = 2; $0.maxDelay = .seconds(1) }
        for request in 0..<2 { try queue.admit(request: request, key: plain, costs: [5], at: start) }
        let merged = batch(queue.next(at: start))
        #expect(merged?.requests == 2)
        // One request waits where two were merged, but its two inputs fill the forward: no wait.
        try queue.admit(request: 2, key: plain, costs: [5, 5], at: start)
        let full = batch(queue.next(at: start))
        #expect(full?.items.count == 2)
        // The same with inputs left over for the next forward.
        for request in 3..<6 { try queue.admit(request: request, key: plain, costs: [5], at: start) }
        let first = batch(queue.next(at: start))
        #expect(first?.requests == 2)
    }

    @Test func textCostIsEstimatedFromBytesAndCappedByTheModel() {
        #expect(SpaceInput.text("abcdef").estimatedTokens(maxTokens: 128, options: EmbeddingOptions()) == 2 + 2)
        let instructed = EmbeddingOptions(instruction: .text("abc"))
        #expect(SpaceInput.text("abcdef").estimatedTokens(maxTokens: 128, options: instructed) == 2 + 3)
        #expect(SpaceInput.text(String(repeating: "x", count: 10_000)).estimatedTokens(maxTokens: 128, options: EmbeddingOptions()) == 128)
        #expect(SpaceInput.image(MediaBytes(data: Data([1, 2, 3]))).estimatedTokens(maxTokens: 128, options: EmbeddingOptions()) == 128)
    }
}
