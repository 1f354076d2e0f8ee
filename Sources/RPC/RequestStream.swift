/// The request messages of a call, in order; the sequence ends when the client half-closes.
/// Iterating after the call was cancelled throws `RPCStatus(.cancelled)`. Iterate it once.
public struct RequestStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = RPCStatus

    let source: any MessageSource

    init(source: any MessageSource) {
        self.source = source
    }

    /// A stream over messages already at hand (in-process calls, tests).
    public init(_ messages: [[UInt8]]) {
        self.source = ArraySource(messages)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(source: source)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let source: any MessageSource

        public mutating func next() async throws(RPCStatus) -> [UInt8]? {
            try await source.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCStatus) -> [UInt8]? {
            try await source.next()
        }
    }
}

/// Where a RequestStream's messages come from: the bridge, or an array.
protocol MessageSource: Sendable {
    func next() async throws(RPCStatus) -> [UInt8]?
}

final class ArraySource: MessageSource {
    private let messages: Mutex<ArraySlice<[UInt8]>>

    init(_ messages: [[UInt8]]) {
        self.messages = Mutex(messages[...])
    }

    func next() async throws(RPCStatus) -> [UInt8]? {
        if Task.isCancelled { throw RPCStatus(.cancelled, "cancelled") }
        return messages.withLock { $0.popFirst() }
    }
}
