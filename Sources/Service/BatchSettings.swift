/// How the batch scheduler merges requests into forward passes and how much work it lets wait
/// (server flags --batch-delay-us, --batch-max-items, --batch-max-tokens, --batch-max-requests,
/// --queue-max-items; README "Server options").
public struct BatchSettings: Sendable, Equatable {
    /// Longest a batch waits to fill, counted from the enqueue of its oldest item. The scheduler waits only
    /// when the model's previous forward merged several requests (`BatchQueue.next`), so a lone sequential
    /// client never pays it.
    public var maxDelay: Duration = .milliseconds(2)
    /// Most inputs in one forward (the text encoder splits larger calls anyway: its chunks are 64 sequences).
    public var maxItems: Int = 64
    /// Most estimated tokens in one forward (`SpaceInput.estimatedTokens`): bounds the forward's activations
    /// and its latency. An input costing more than this still runs, alone.
    public var maxTokens: Int = 8_192
    /// Most requests merged into one forward; 0: no limit but `maxItems`. 1 turns merging off (one request
    /// per forward, as before batching), for comparisons.
    public var maxRequests: Int = 0
    /// Most inputs waiting for a forward, over all models; a request that would pass it is refused at once
    /// with RESOURCE_EXHAUSTED. At least `ServiceLimits.maxBatchItems`, so one full request always fits an
    /// empty queue.
    public var maxQueuedItems: Int = 1_024

    public init() {}

    /// What is wrong with these values (for the server's flag validation), or nil.
    public func problem(maxBatchItems: Int) -> String? {
        if maxDelay < .zero { return "--batch-delay-us must be 0 or more, got \(maxDelay / .microseconds(1))" }
        if maxItems <= 0 { return "--batch-max-items must be positive, got \(maxItems)" }
        if maxTokens <= 0 { return "--batch-max-tokens must be positive, got \(maxTokens)" }
        if maxRequests < 0 { return "--batch-max-requests must be 0 (no limit) or more, got \(maxRequests)" }
        if maxQueuedItems < maxBatchItems {
            return "--queue-max-items (\(maxQueuedItems)) must be at least --max-batch-items (\(maxBatchItems)), or a full request could never be queued"
        }
        return nil
    }
}
