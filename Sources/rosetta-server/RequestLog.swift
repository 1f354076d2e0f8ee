import Foundation
import Logging
import RPC

/// One log line per finished call: method, status code, duration and request id (the client's x-request-id
/// or a generated one). Successful calls at debug, failed ones at info, so the default level shows what
/// went wrong without a line per request. Metadata values (the authorization token among them) are never logged.
struct RequestLog: Sendable {
    let logger: Logger

    func record(_ context: CallContext, _ status: RPCStatus, _ duration: Duration) {
        let level: Logger.Level = status.code == .ok ? .debug : .info
        // Checked first: the metadata below costs string formatting on every call, logged or not.
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "request_id": "\(context.requestID)",
            "method": "\(context.method)",
            "code": "\(status.code.name)",
            "duration_ms": "\(Self.milliseconds(duration))",
            "peer": "\(context.peer)",
            "transport": "\(context.transport)",
        ]
        if status.code != .ok { metadata["error"] = "\(status.message)" }
        logger.log(level: level, "request", metadata: metadata)
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return String(format: "%.3f", ms)
    }
}
