import Metrics

/// The metrics the handlers record, through swift-metrics: the server bootstraps a Prometheus backend
/// (`--metrics-address`); without one (tests) they cost nothing.
enum ServiceMetrics {
    /// Inputs per Embed / EmbedStream request (a histogram).
    static let embedBatchItems = Recorder(label: "rosetta_batch_items", dimensions: [("method", "Embed")])
    /// Items per Upsert / UpsertStream request (a histogram).
    static let upsertBatchItems = Recorder(label: "rosetta_batch_items", dimensions: [("method", "Upsert")])
    /// Model runs waiting for the inference queue or running on it.
    static let inferenceQueueDepth = Meter(label: "rosetta_inference_queue_depth")
}
