/// Sends response messages of a call, in order. `write` returns once the message is queued for
/// sending, and suspends while too many messages wait (back-pressure). It throws
/// `RPCStatus(.cancelled)` once the call is cancelled or finished.
public struct ResponseWriter: Sendable {
    let sink: any MessageSink

    init(sink: any MessageSink) {
        self.sink = sink
    }

    public func write(_ bytes: [UInt8]) async throws(RPCStatus) {
        try await sink.write(bytes)
    }

    /// The call's last message (a unary response): the transport sends it together with the OK status.
    func writeLast(_ bytes: [UInt8]) async throws(RPCStatus) {
        try await sink.writeLast(bytes)
    }
}

protocol MessageSink: Sendable {
    func write(_ bytes: [UInt8]) async throws(RPCStatus)
    /// The last message of the call; nothing is written after it and the call then ends with OK.
    func writeLast(_ bytes: [UInt8]) async throws(RPCStatus)
}

/// Collects responses in memory (in-process calls).
final class CollectingSink: MessageSink {
    let messages = Mutex<[[UInt8]]>([])

    func write(_ bytes: [UInt8]) async throws(RPCStatus) {
        if Task.isCancelled { throw RPCStatus(.cancelled, "cancelled") }
        messages.withLock { $0.append(bytes) }
    }

    func writeLast(_ bytes: [UInt8]) async throws(RPCStatus) { try await write(bytes) }
}
