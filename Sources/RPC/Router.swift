/// Maps full method names ("/rosetta.v1.Embeddings/Embed") to handlers, and runs a call against
/// them. Transport-free: the live `Server` feeds it calls from grpc++, and `handle(method:requests:
/// context:)` runs one in process, with no socket, for Service tests.
///
/// Error mapping happens here, once: a handler throwing `RPCStatus` finishes the call with it; any
/// other error finishes it with the status `errorMapper` gives (the server maps its typed errors there).
public struct Router: Sendable {
    public typealias UnaryHandler = @Sendable ([UInt8], CallContext) async throws -> [UInt8]
    public typealias BidiStreamHandler = @Sendable (RequestStream, ResponseWriter, CallContext) async throws -> Void

    enum Handler: Sendable {
        case unary(UnaryHandler)
        case bidiStream(BidiStreamHandler)
    }

    private(set) var handlers: [String: Handler] = [:]

    /// Turns an error other than `RPCStatus` that a handler throws into the call's status.
    /// Default: INTERNAL with a generic message (the error itself is not shown to the client).
    public var errorMapper: @Sendable (_ method: String, _ error: any Error) -> RPCStatus = { _, _ in
        RPCStatus(.internal, "internal error")
    }

    /// Runs before anything of the call is read: throwing ends the call with the status `errorMapper`
    /// gives (an `RPCStatus` as is), so the request body is never decoded. The server checks bearer
    /// tokens here. nil: every call is let through.
    public var authenticator: (@Sendable (CallContext) throws -> Void)?

    /// Told about every call once it has ended (method, final status, time from start to status), for
    /// request logs and metrics. Runs on the call's Task; keep it short.
    public var onCallFinished: (@Sendable (CallContext, RPCStatus, Duration) -> Void)?

    public init() {}

    /// Registers a unary method: exactly one request message, one response message. The handler
    /// runs once the request and the client's half-close have arrived.
    public mutating func unary(_ method: String, _ handler: @escaping UnaryHandler) {
        handlers[method] = .unary(handler)
    }

    /// Registers a streaming method (client, server or bidi streaming alike).
    public mutating func bidiStream(_ method: String, _ handler: @escaping BidiStreamHandler) {
        handlers[method] = .bidiStream(handler)
    }

    /// The registered method names, sorted.
    public var methods: [String] { handlers.keys.sorted() }

    /// The unary ones among `methods`, sorted.
    public var unaryMethods: [String] {
        handlers.compactMap { method, handler in
            if case .unary = handler { method } else { nil }
        }.sorted()
    }

    /// Runs one call in process: the handler sees `requests` then a half-close. Returns what a
    /// client would receive.
    public func handle(method: String, requests: [[UInt8]], context: CallContext? = nil) async
        -> (responses: [[UInt8]], status: RPCStatus)
    {
        let sink = CollectingSink()
        let status = await run(
            method: method, requests: RequestStream(requests), writer: ResponseWriter(sink: sink),
            context: context ?? CallContext(method: method))
        return (sink.messages.withLock { $0 }, status)
    }

    /// Runs one call to completion and returns its final status. Never throws.
    func run(method: String, requests: RequestStream, writer: ResponseWriter, context: CallContext) async
        -> RPCStatus
    {
        let started = ContinuousClock.now
        let status = await dispatch(method: method, requests: requests, writer: writer, context: context)
        onCallFinished?(context, status, ContinuousClock.now - started)
        return status
    }

    private func dispatch(method: String, requests: RequestStream, writer: ResponseWriter, context: CallContext)
        async -> RPCStatus
    {
        do {
            // Before the method lookup too: an unauthenticated client learns nothing about the methods.
            try authenticator?(context)
            guard let handler = handlers[method] else {
                return RPCStatus(.unimplemented, "unknown method \(method)")
            }
            switch handler {
            case .unary(let handler):
                let request = try await Self.singleMessage(requests)
                let response = try await handler(request, context)
                try await writer.writeLast(response)
            case .bidiStream(let handler):
                try await handler(requests, writer, context)
            }
            return .ok
        } catch let status as RPCStatus {
            return status
        } catch is CancellationError {
            return RPCStatus(.cancelled, "cancelled")
        } catch {
            return errorMapper(method, error)
        }
    }

    /// A unary call carries exactly one request message (grpc answers INTERNAL otherwise).
    private static func singleMessage(_ requests: RequestStream) async throws(RPCStatus) -> [UInt8] {
        var iterator = requests.makeAsyncIterator()
        guard let first = try await iterator.next() else {
            throw RPCStatus(.internal, "unary call without a request message")
        }
        guard try await iterator.next() == nil else {
            throw RPCStatus(.internal, "unary call with more than one request message")
        }
        return first
    }
}
