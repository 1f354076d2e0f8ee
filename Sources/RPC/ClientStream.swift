import CGRPCBridge

/// A client call in flight: send requests, receive responses, learn the final status.
/// `send` and `receive` may run in different Tasks (one of each at a time). Dropping the last
/// reference before the call ends cancels it.
public final class ClientStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = RPCStatus

    private let handle: BridgeHandle
    private let events: ClientStreamEvents

    init(handle: BridgeHandle, events: ClientStreamEvents) {
        self.handle = handle
        self.events = events
        events.attach(handle)
    }

    deinit {
        events.detach()
        rg_client_stream_cancel(handle.pointer)  // no-op once finished
        rg_client_stream_release(handle.pointer)
    }

    /// Queues one request message; suspends while many are queued. Throws the call's final status
    /// once the call has ended (FAILED_PRECONDITION if it ended with OK, or after `closeSend`).
    /// Cancelling the calling Task cancels the call.
    public func send(_ bytes: [UInt8]) async throws(RPCStatus) {
        if sendClosed.withLock({ $0 }) { throw RPCStatus(.failedPrecondition, "send after closeSend") }
        do {
            try await events.core.write(bytes)
        } catch {
            // The calling Task was cancelled (which cancels the call, as in `receive`), or the
            // call has ended: report how it ended (the status may still be on its way).
            if Task.isCancelled { cancel() }
            let status = await events.finalStatus()
            throw status.code == .ok ? RPCStatus(.failedPrecondition, "the call has already finished") : status
        }
    }

    /// Tells the server no more requests follow (half-close).
    public func closeSend() {
        sendClosed.withLock { $0 = true }
        _ = rg_client_stream_close_send(handle.pointer)
    }

    private let sendClosed = Mutex(false)

    /// The next response, or nil once the server has finished with OK. A call that ends with any
    /// other status throws it. Cancelling the calling Task cancels the call.
    public func receive() async throws(RPCStatus) -> [UInt8]? {
        let result: Result<[UInt8]?, RPCStatus> = await withTaskCancellationHandler {
            do throws(RPCStatus) {
                return .success(try await events.core.read())
            } catch {
                return .failure(error)
            }
        } onCancel: { [handle] in
            rg_client_stream_cancel(handle.pointer)
        }
        let message: [UInt8]?
        switch result {
        case .success(let value): message = value
        case .failure(let error): throw error
        }
        if let message { return message }
        let status = await events.finalStatus()
        if status.code != .ok { throw status }
        return nil
    }

    /// Cancels the call; the server sees CANCELLED, and so does this side.
    public func cancel() {
        rg_client_stream_cancel(handle.pointer)
    }

    /// Waits for the call to end and returns its status (OK included). Responses not received yet
    /// are read and discarded: the call cannot end while this side might still read.
    public func finalStatus() async -> RPCStatus {
        while true {
            do {
                if try await receive() == nil { break }
            } catch {
                break
            }
        }
        return await events.finalStatus()
    }

    public func makeAsyncIterator() -> Iterator { Iterator(stream: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: ClientStream

        public mutating func next() async throws(RPCStatus) -> [UInt8]? { try await stream.receive() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCStatus) -> [UInt8]? {
            try await stream.receive()
        }
    }
}

/// The part of a stream the bridge calls back into (retained by the bridge until
/// RG_EVENT_FINISHED); holds the stream's handle only while the ClientStream lives.
final class ClientStreamEvents: Sendable {
    private struct State {
        var handle: BridgeHandle?
        var finishedEventSeen = false
        var status: RPCStatus?
        var waiters: [CheckedContinuation<RPCStatus, Never>] = []
    }

    private let state = Mutex(State())
    let core: StreamCore

    init() {
        let box = HandleBox()
        self.core = StreamCore(
            requestRead: { box.call { rg_client_stream_request_read($0) == 0 } },
            send: { bytes in
                box.call { pointer in
                    bytes.withUnsafeBufferPointer { rg_client_stream_write(pointer, $0.baseAddress, $0.count) } == 0
                }
            })
        self.box = box
    }

    private let box: HandleBox

    func attach(_ handle: BridgeHandle) {
        box.set(handle)
        let finished = state.withLock { s in
            s.handle = handle
            return s.finishedEventSeen
        }
        if finished { resolveStatus() }
    }

    func detach() {
        box.set(nil)
        state.withLock { $0.handle = nil }
    }

    /// RG_EVENT_FINISHED: the bridge holds the status now.
    func finished() {
        let attached = state.withLock { s in
            s.finishedEventSeen = true
            return s.handle != nil
        }
        if attached { resolveStatus() }
    }

    private func resolveStatus() {
        let (status, waiters) = state.withLock { s -> (RPCStatus?, [CheckedContinuation<RPCStatus, Never>]) in
            guard s.status == nil, let handle = s.handle else { return (nil, []) }
            var message: UnsafePointer<CChar>?
            let code = rg_client_stream_status(handle.pointer, &message)
            let status = RPCStatus(wireCode: code, message: message.map { String(cString: $0) } ?? "")
            s.status = status
            defer { s.waiters = [] }
            return (status, s.waiters)
        }
        guard let status else { return }
        if status.code == .ok {
            core.close(readFailure: nil, writeFailure: RPCStatus(.failedPrecondition, "stream already finished"))
        } else {
            core.close(readFailure: status, writeFailure: status)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    func finalStatus() async -> RPCStatus {
        await withCheckedContinuation { continuation in
            let status = state.withLock { s -> RPCStatus? in
                if let status = s.status { return status }
                s.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// The stream handle as seen from StreamCore's closures; nil once the ClientStream is gone.
private final class HandleBox: Sendable {
    private let handle = Mutex<BridgeHandle?>(nil)

    func set(_ value: BridgeHandle?) { handle.withLock { $0 = value } }

    /// Runs `body` with the handle while holding the lock (so release cannot race it).
    func call(_ body: (OpaquePointer) -> Bool) -> Bool {
        handle.withLock { h in
            guard let h else { return false }
            return body(h.pointer)
        }
    }
}

func clientStreamOnEvent(_ user: UnsafeMutableRawPointer?, _ kind: rg_event_kind, _ bytes: UnsafePointer<UInt8>?, _ len: Int) {
    guard let user else { return }
    let unmanaged = Unmanaged<ClientStreamEvents>.fromOpaque(user)
    let events = unmanaged.takeUnretainedValue()
    switch kind {
    case RG_EVENT_MESSAGE:
        events.core.received(bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? [])
    case RG_EVENT_HALF_CLOSE:
        events.core.readEnded()
    case RG_EVENT_WRITTEN:
        events.core.written()
    case RG_EVENT_FINISHED:
        events.finished()
        unmanaged.release()
    default:
        break
    }
}
