import Metrics
import RPC

/// Per-call metrics: rosetta_requests_total{method,code,transport}, rosetta_errors_total{code,transport} and the
/// latency histogram rosetta_request_duration_seconds{method,transport}; transport is "grpc" or "http" (methods
/// are gRPC's full names and the HTTP API's routes, "POST /v1/embeddings"). Methods the server does not serve
/// count as "unknown", so that clients cannot grow the label set.
struct RequestMetrics: Sendable {
    let methods: Set<String>

    func record(_ context: CallContext, _ status: RPCStatus, _ duration: Duration) {
        let method = methods.contains(context.method) ? context.method : "unknown"
        let code = status.code.name
        let transport = context.transport
        Counter(label: "rosetta_requests_total", dimensions: [("method", method), ("code", code), ("transport", transport)]).increment()
        if status.code != .ok {
            Counter(label: "rosetta_errors_total", dimensions: [("code", code), ("transport", transport)]).increment()
        }
        let (seconds, attoseconds) = duration.components
        Timer(label: "rosetta_request_duration_seconds", dimensions: [("method", method), ("transport", transport)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
