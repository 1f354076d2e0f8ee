import Metrics
import RPC

/// Per-call metrics: rosetta_requests_total{method,code}, rosetta_errors_total{code} and the latency histogram
/// rosetta_request_duration_seconds{method}. Methods the router does not serve count as "unknown", so that
/// clients cannot grow the label set.
struct RequestMetrics: Sendable {
    let methods: Set<String>

    func record(_ context: CallContext, _ status: RPCStatus, _ duration: Duration) {
        let method = methods.contains(context.method) ? context.method : "unknown"
        let code = status.code.name
        Counter(label: "rosetta_requests_total", dimensions: [("method", method), ("code", code)]).increment()
        if status.code != .ok {
            Counter(label: "rosetta_errors_total", dimensions: [("code", code)]).increment()
        }
        let (seconds, attoseconds) = duration.components
        Timer(label: "rosetta_request_duration_seconds", dimensions: [("method", method)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
