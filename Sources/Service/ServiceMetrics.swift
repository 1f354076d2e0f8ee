import Metrics

/// The metrics the handlers record, through swift-metrics: the server bootstraps a Prometheus backend
/// (`--metrics-address`); without one (tests) they cost nothing.
enum ServiceMetrics {
    /// Inputs per Embed / EmbedStream request (a histogram).
    static let embedBatchItems = Recorder(label: "rosetta_batch_items", dimensions: [("method", "Embed")])
    /// Items per Upsert / UpsertStream request (a histogram).
    static let upsertBatchItems = Recorder(label: "rosetta_batch_items", dimensions: [("method", "Upsert")])

    // The batch scheduler (BatchScheduler).
    /// Requests with model work waiting for a forward or in one.
    static let inferenceQueueDepth = Meter(label: "rosetta_inference_queue_depth")
    /// Inputs waiting for a forward (what --queue-max-items limits).
    static let inferenceQueuedItems = Meter(label: "rosetta_inference_queued_items")
    /// Requests refused because the queue was full (RESOURCE_EXHAUSTED).
    static let inferenceRejected = Counter(label: "rosetta_inference_rejected_total")
    /// Per request: time waiting for its forwards, and time in them (usage.queue_time_ns, compute_time_ns).
    static let inferenceQueueTime = Timer(label: "rosetta_inference_queue_seconds")
    static let inferenceComputeTime = Timer(label: "rosetta_inference_compute_seconds")
    /// Per forward: the inputs it carried, and how many requests they came from (histograms).
    static let forwardItems = Recorder(label: "rosetta_forward_items")
    static let forwardRequests = Recorder(label: "rosetta_forward_requests")
}
