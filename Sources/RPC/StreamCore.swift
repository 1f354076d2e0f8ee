/// Read and write bookkeeping shared by a server call and a client stream: turns the bridge's
/// one-read-at-a-time requests and per-message RG_EVENT_WRITTEN into async `read` and `write`.
///
/// Reads are on demand (a message is requested from grpc++ only when someone awaits it), or with
/// `readAhead` one message ahead (server calls: the request is usually there before the handler asks); either
/// way a slow reader slows the peer down through HTTP/2 flow control. Writes are queued in C++; at most
/// `maxInFlight` messages (and, beyond the first, at most `maxInFlightBytes`) wait there; further
/// writers suspend until one is sent.
final class StreamCore: Sendable {
    typealias ReadResult = Result<[UInt8]?, RPCStatus>
    typealias WriteResult = Result<Void, RPCStatus>

    private struct State {
        var reader: CheckedContinuation<ReadResult, Never>?
        var buffered: [UInt8]?  // read ahead, not yet taken (readAhead only)
        var readRequested = false  // a read asked of the bridge and not answered yet
        var readEnded = false
        var readFailure: RPCStatus?
        var writeFailure: RPCStatus?
        var inFlight = 0
        var inFlightSizes: [Int] = []  // sizes of the queued messages, oldest first
        var inFlightBytes = 0
        var nextWaiterID = 0
        var writeWaiters: [(id: Int, size: Int, continuation: CheckedContinuation<WriteResult, Never>)] = []

        /// A message always fits when nothing is queued, however large.
        func hasRoom(for size: Int, maxCount: Int, maxBytes: Int) -> Bool {
            inFlight == 0 || (inFlight < maxCount && inFlightBytes + size <= maxBytes)
        }

        /// Marks a read as asked for, unless one is outstanding or the stream has ended; true: ask the bridge.
        mutating func askIfIdle() -> Bool {
            guard !readRequested && !readEnded && readFailure == nil else { return false }
            readRequested = true
            return true
        }

        mutating func take(_ size: Int) {
            inFlight += 1
            inFlightSizes.append(size)
            inFlightBytes += size
        }
    }

    private let state = Mutex(State())
    private let maxInFlight: Int
    private let maxInFlightBytes: Int
    private let readAhead: Bool
    private let requestRead: @Sendable () -> Bool
    private let send: @Sendable ([UInt8]) -> Bool

    /// `requestRead` and `send` call into the bridge and return false when the call is closed.
    /// The owner must call `close` when the bridge reports the end of the call.
    init(
        maxInFlight: Int = 16, maxInFlightBytes: Int = 4 << 20, readAhead: Bool = false,
        requestRead: @escaping @Sendable () -> Bool, send: @escaping @Sendable ([UInt8]) -> Bool
    ) {
        self.readAhead = readAhead
        self.maxInFlight = maxInFlight
        self.maxInFlightBytes = maxInFlightBytes
        self.requestRead = requestRead
        self.send = send
    }

    static let cancelled = RPCStatus(.cancelled, "cancelled")

    // MARK: Reading

    /// The whole request stream, read by the bridge before the call reached us (unary methods): `message`
    /// (nil: none), then the end.
    func preload(_ message: [UInt8]?) {
        state.withLock { s in
            s.buffered = message
            s.readEnded = true
        }
    }

    /// With `readAhead`: asks for the first message before anyone reads.
    func startReading() {
        guard readAhead else { return }
        if state.withLock({ $0.askIfIdle() }) { _ = requestRead() }
    }

    /// The next message, nil at the end of the stream.
    func read() async throws(RPCStatus) -> [UInt8]? {
        let result: ReadResult = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ReadResult, Never>) in
                var ask = false
                let immediate: ReadResult? = state.withLock { s in
                    if let failure = s.readFailure { return .failure(failure) }
                    if let message = s.buffered {
                        s.buffered = nil
                        ask = readAhead && s.askIfIdle()
                        return .success(message)
                    }
                    if s.readEnded { return .success(nil) }
                    // Checked under the lock: the cancellation handler takes the lock too, so a
                    // cancel either is seen here or finds the stored reader.
                    if Task.isCancelled { return .failure(Self.cancelled) }
                    if s.reader != nil { return .failure(RPCStatus(.internal, "concurrent reads of one stream")) }
                    s.reader = continuation
                    ask = s.askIfIdle()
                    return nil
                }
                // When the bridge refuses (the call just ended), a pending reader stays pending on
                // purpose: the end event (RG_EVENT_DONE / RG_EVENT_FINISHED) is always on its way
                // and resolves it with the real outcome, which may still be a clean end.
                if ask { _ = requestRead() }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let reader = state.withLock { s in
                defer { s.reader = nil }
                return s.reader
            }
            reader?.resume(returning: .failure(Self.cancelled))
        }
        return try result.get()
    }

    /// A message arrived for the pending read (or, reading ahead, for the next one).
    func received(_ bytes: [UInt8]) {
        var ask = false
        let reader = state.withLock { s -> CheckedContinuation<ReadResult, Never>? in
            s.readRequested = false
            guard let reader = s.reader else {
                s.buffered = bytes
                return nil
            }
            s.reader = nil
            if readAhead { ask = s.askIfIdle() }
            return reader
        }
        reader?.resume(returning: .success(bytes))
        if ask { _ = requestRead() }
    }

    /// The peer finished sending.
    func readEnded() {
        let reader = state.withLock { s in
            s.readEnded = true
            s.readRequested = false
            defer { s.reader = nil }
            return s.reader
        }
        reader?.resume(returning: .success(nil))
    }

    // MARK: Writing

    func write(_ bytes: [UInt8]) async throws(RPCStatus) {
        try await acquireWriteSlot(size: bytes.count)
        if !send(bytes) {
            let failure = state.withLock { s in
                s.inFlight -= 1
                if let index = s.inFlightSizes.lastIndex(of: bytes.count) { s.inFlightSizes.remove(at: index) }
                s.inFlightBytes -= bytes.count
                return s.writeFailure
            }
            throw failure ?? RPCStatus(.cancelled, "call is closed")
        }
    }

    private func acquireWriteSlot(size: Int) async throws(RPCStatus) {
        let id = state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let result: WriteResult = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<WriteResult, Never>) in
                let immediate: WriteResult? = state.withLock { s in
                    if let failure = s.writeFailure { return .failure(failure) }
                    if Task.isCancelled { return .failure(Self.cancelled) }
                    if s.writeWaiters.isEmpty && s.hasRoom(for: size, maxCount: maxInFlight, maxBytes: maxInFlightBytes) {
                        s.take(size)
                        return .success(())
                    }
                    s.writeWaiters.append((id, size, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<WriteResult, Never>? in
                guard let index = s.writeWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.writeWaiters.remove(at: index).continuation
            }
            waiter?.resume(returning: .failure(Self.cancelled))
        }
        try result.get()
    }

    /// The oldest queued message left the C++ queue: hand its room to waiting writers, in order.
    func written() {
        let next = state.withLock { s -> [CheckedContinuation<WriteResult, Never>] in
            s.inFlight -= 1
            if !s.inFlightSizes.isEmpty { s.inFlightBytes -= s.inFlightSizes.removeFirst() }
            var ready: [CheckedContinuation<WriteResult, Never>] = []
            while s.writeFailure == nil, let first = s.writeWaiters.first,
                s.hasRoom(for: first.size, maxCount: maxInFlight, maxBytes: maxInFlightBytes)
            {
                s.take(first.size)
                ready.append(s.writeWaiters.removeFirst().continuation)
            }
            return ready
        }
        for writer in next { writer.resume(returning: .success(())) }
    }

    // MARK: Ending

    /// The call is over (cancelled, deadline, finished): pending and later reads and writes fail.
    /// `readFailure` nil lets reads end normally (nil) instead.
    func close(readFailure: RPCStatus?, writeFailure: RPCStatus) {
        let (reader, writers) = state.withLock { s in
            if s.writeFailure == nil { s.writeFailure = writeFailure }
            if let readFailure, s.readFailure == nil, !s.readEnded { s.readFailure = readFailure }
            if readFailure == nil { s.readEnded = true }
            let reader = s.reader
            let writers = s.writeWaiters.map(\.continuation)
            s.reader = nil
            s.writeWaiters = []
            return (reader, writers)
        }
        reader?.resume(returning: readFailure.map { .failure($0) } ?? .success(nil))
        for writer in writers { writer.resume(returning: .failure(writeFailure)) }
    }
}
