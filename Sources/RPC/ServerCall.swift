import CGRPCBridge

/// One live call from grpc++: owns the `rg_call` reference (released in deinit, i.e. once neither
/// the bridge nor the handler Task can reach this object) and runs the router in its own Task.
final class ServerCall: MessageSource, MessageSink {
    let handle: BridgeHandle
    let core: StreamCore
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// The unary response, sent with the final status (rg_call_write_last) when the handler returns.
    private let last = Mutex<[UInt8]?>(nil)

    init(handle: BridgeHandle) {
        self.handle = handle
        self.core = StreamCore(
            readAhead: true,
            requestRead: { rg_call_request_read(handle.pointer) == 0 },
            send: { bytes in bytes.withUnsafeBufferPointer { rg_call_write(handle.pointer, $0.baseAddress, $0.count) } == 0 }
        )
    }

    deinit {
        rg_call_release(handle.pointer)
    }

    func next() async throws(RPCStatus) -> [UInt8]? { try await core.read() }
    func write(_ bytes: [UInt8]) async throws(RPCStatus) { try await core.write(bytes) }

    func writeLast(_ bytes: [UInt8]) async throws(RPCStatus) {
        if Task.isCancelled { throw StreamCore.cancelled }
        last.withLock { $0 = bytes }
    }

    /// Starts the handler Task, on this thread up to its first suspension (`ReceivingThread`): a unary call
    /// whose request the bridge has read (preloaded) usually runs to its answer before this returns. For
    /// other calls the first request message is asked for at once, so that it is usually there by the time
    /// the Task reads (StreamCore reads one message ahead).
    func start(router: Router, context: CallContext) {
        core.startReading()
        let task = ReceivingThread.run {
            Task.immediate { await self.run(router: router, context: context) }
        }
        self.task.withLock { $0 = task }
    }

    private func run(router: Router, context: CallContext) async {
        let status = await router.run(
            method: context.method, requests: RequestStream(source: self), writer: ResponseWriter(sink: self),
            context: context)
        if status.code == .ok, let bytes = last.withLock({ $0.take() }) {
            _ = bytes.withUnsafeBufferPointer { rg_call_write_last(handle.pointer, $0.baseAddress, $0.count, 0, "") }
        } else {
            _ = rg_call_finish(handle.pointer, status.code.rawValue, status.message)
        }
    }

    /// The bridge already finished the call with CANCELLED or DEADLINE_EXCEEDED: stop the handler.
    func cancel(_ status: RPCStatus) {
        core.close(readFailure: status, writeFailure: status)
        task.withLock { $0 }?.cancel()
    }
}

/// A bridge pointer that may cross threads: the bridge's functions are thread-safe (see the header).
struct BridgeHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The server-wide object the bridge hands back to `serverOnCall` as its context.
final class ServerCallContext: Sendable {
    let router: Router
    init(router: Router) { self.router = router }
}

// MARK: - C callbacks (grpc++ threads; free functions so they carry no actor isolation)

func serverOnCall(
    _ context: UnsafeMutableRawPointer?, _ call: OpaquePointer?, _ info: UnsafePointer<rg_call_info>?
) -> UnsafeMutableRawPointer? {
    guard let call else { return nil }
    guard let context, let info else {
        _ = rg_call_finish(call, RPCStatus.Code.internal.rawValue, "server misconfigured")
        rg_call_release(call)
        return nil
    }
    let server = Unmanaged<ServerCallContext>.fromOpaque(context).takeUnretainedValue()
    let serverCall = ServerCall(handle: BridgeHandle(pointer: call))
    switch Int(info.pointee.request_read) {
    case RG_REQUEST_READ:
        serverCall.core.preload(Array(UnsafeRawBufferPointer(start: info.pointee.request, count: info.pointee.request_len)))
    case RG_REQUEST_NONE:
        serverCall.core.preload(nil)
    default:
        break
    }
    serverCall.start(router: server.router, context: CallContext(info.pointee))
    // The bridge keeps this reference until RG_EVENT_DONE.
    return Unmanaged.passRetained(serverCall).toOpaque()
}

func serverOnEvent(_ user: UnsafeMutableRawPointer?, _ kind: rg_event_kind, _ bytes: UnsafePointer<UInt8>?, _ len: Int) {
    guard let user else { return }
    let call = Unmanaged<ServerCall>.fromOpaque(user)
    let serverCall = call.takeUnretainedValue()
    switch kind {
    case RG_EVENT_MESSAGE:
        serverCall.core.received(bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? [])
    case RG_EVENT_HALF_CLOSE:
        serverCall.core.readEnded()
    case RG_EVENT_WRITTEN:
        serverCall.core.written()
    case RG_EVENT_CANCELLED:
        serverCall.cancel(RPCStatus(.cancelled, "call cancelled by the client"))
    case RG_EVENT_DEADLINE:
        serverCall.cancel(RPCStatus(.deadlineExceeded, "deadline exceeded"))
    case RG_EVENT_DONE:
        serverCall.core.close(readFailure: StreamCore.cancelled, writeFailure: RPCStatus(.cancelled, "call is done"))
        call.release()
    default:
        break
    }
}

extension CallContext {
    init(_ info: rg_call_info) {
        var metadata = Metadata()
        for i in 0..<info.metadata_count {
            guard let entry = info.metadata?[i], let rawKey = entry.key else { continue }
            let key = String(cString: rawKey)
            let value = entry.value.map { UnsafeRawBufferPointer(start: $0, count: entry.value_len) }
            let bytes = value.map { Array($0) } ?? []
            metadata.append(key.hasSuffix("-bin") ? Base64.encode(bytes) : String(decoding: bytes, as: UTF8.self), for: key)
        }
        let deadline: ContinuousClock.Instant? =
            info.deadline_remaining_ns < 0 ? nil : .now.advanced(by: .nanoseconds(info.deadline_remaining_ns))
        self.init(
            method: info.method.map { String(cString: $0) } ?? "",
            metadata: metadata,
            deadline: deadline,
            peer: info.peer.map { String(cString: $0) } ?? "")
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes standard base64, padded or not; nil for anything else.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for char in text.utf8 where char != UInt8(ascii: "=") {
            guard let index = alphabet.firstIndex(of: char) else { return nil }
            accumulator = accumulator << 6 | UInt32(index)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
