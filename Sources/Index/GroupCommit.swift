/// Group commit: concurrent writers' log records share one write and one fsync.
///
/// A writer validates its operation and queues it, under one mutex, so the log order is the order of
/// validation. Then either no flush is running and it becomes the leader: it takes what is queued (up to
/// `maxBatchBytes`), writes it as one log record (a batch record when there are several: one write, one fsync, and a crash tears at
/// most that last record; `WriteAheadLog`), applies the operations in order and wakes the others; or a flush
/// is running and it waits, and whatever queued meanwhile goes into the next flush. Every writer returns only
/// once its own operation is durable and applied, so a returned write survives kill -9 and a thrown one left
/// no trace: when a flush fails, each of its writers gets the error and nothing of it is applied. Without a
/// log (an in-memory index) a write is applied under the mutex.
///
/// Upserts share flushes (`commit`): their validation reads only which collections exist and their
/// dimensions, which no queued upsert changes. Everything else (creating or deleting a collection, deletes,
/// which resolve ids against the items as they are) runs alone (`commitAlone`): it waits until every earlier
/// write is applied and holds later ones back until it is. `quiesced` gives the same point to snapshots and to
/// closing.
final class GroupCommit: @unchecked Sendable {
    /// What the writers share; guarded by `condition`.
    struct State {
        var log: WriteAheadLog?
        var nextLSN: UInt64
        var changesSinceSnapshot: Int
        /// Bytes in the log after the last flush.
        var logBytes: Int
        /// Flushes (each one record: one write and one fsync) since the index opened.
        var syncs = 0
    }

    private final class Ticket {
        let operation: LogOperation
        /// `operation.encoded()`, empty without a log.
        let encoded: [UInt8]
        var result: Result<Void, IndexError>?

        init(_ operation: LogOperation, encoded: [UInt8]) {
            self.operation = operation
            self.encoded = encoded
        }
    }

    private let condition = Condition()
    private let apply: @Sendable (LogOperation) -> Void
    // Guarded by `condition`:
    private var state: State
    private var queued: [Ticket] = []
    private var flushing = false
    /// Exclusive writers (and `quiesced` callers) waiting or running; shared writers wait while any are.
    private var barriers = 0
    private var exclusiveRunning = false

    private let durable: Bool
    /// A flush takes queued writes up to this many bytes of log (at least one write); the rest wait for the next.
    static let maxBatchBytes = 64 << 20

    init(log: WriteAheadLog?, nextLSN: UInt64, changesSinceSnapshot: Int, apply: @escaping @Sendable (LogOperation) -> Void) {
        state = State(log: log, nextLSN: nextLSN, changesSinceSnapshot: changesSinceSnapshot, logBytes: log?.byteCount ?? 0)
        durable = log != nil
        self.apply = apply
    }

    /// Logs and applies `operation` (an upsert), sharing the flush with other writers; returns once it is
    /// durable and applied. It is encoded before the mutex is taken (writers encode in parallel); `validate`
    /// runs under it, after every earlier exclusive write has been applied.
    func commit(_ operation: LogOperation, validate: () throws(IndexError) -> Void) throws(IndexError) {
        let encoded = durable ? try operation.encoded() : []
        condition.lock()
        defer { condition.unlock() }
        while barriers > 0 { condition.wait() }
        try validate()
        try enqueueAndWait(Ticket(operation, encoded: encoded))
    }

    /// Logs and applies the operation `prepare` returns (nothing when it returns nil), alone: `prepare` runs
    /// under the mutex once every earlier write is applied, and later writes wait until this one is applied.
    /// Returns the operation once it is durable and applied.
    func commitAlone(_ prepare: () throws(IndexError) -> LogOperation?) throws(IndexError) -> LogOperation? {
        condition.lock()
        defer { condition.unlock() }
        enterBarrier()
        defer { leaveBarrier() }
        guard let operation = try prepare() else { return nil }
        try enqueueAndWait(Ticket(operation, encoded: durable ? try operation.encoded() : []))
        return operation
    }

    /// Runs `body` on the shared state when no write is queued or in flight and every logged write is applied,
    /// holding new writes back until it returns (a snapshot's freeze and log rotation; closing).
    func quiesced<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        condition.lock()
        defer { condition.unlock() }
        enterBarrier()
        defer { leaveBarrier() }
        return try body(&state)
    }

    /// The shared state now (for reading: log size, counters).
    var current: State {
        condition.lock()
        defer { condition.unlock() }
        return state
    }

    /// Adds back changes a failed snapshot did not save, so that the next attempt runs.
    func snapshotFailed(changes: Int) {
        condition.lock()
        state.changesSinceSnapshot += changes
        condition.unlock()
    }

    // MARK: Under the mutex

    /// Queues the ticket and waits until it has a result, leading the flush whenever none is running.
    private func enqueueAndWait(_ ticket: Ticket) throws(IndexError) {
        guard let log = state.log else {
            apply(ticket.operation)
            return
        }
        queued.append(ticket)
        while ticket.result == nil {
            if flushing {
                condition.wait()
            } else {
                flush(log)
            }
        }
        try ticket.result?.get()
    }

    /// Waits until this caller alone may write: no other exclusive writer, and nothing queued or flushing.
    private func enterBarrier() {
        barriers += 1
        while exclusiveRunning || flushing || !queued.isEmpty { condition.wait() }
        exclusiveRunning = true
    }

    private func leaveBarrier() {
        exclusiveRunning = false
        barriers -= 1
        condition.broadcast()
    }

    /// As the leader: writes and fsyncs everything queued as one record, outside the mutex, applies it, and hands
    /// each writer its result. Only one flush runs at a time, so records are written and applied in LSN order.
    private func flush(_ log: WriteAheadLog) {
        var taken = 1
        var bytes = queued[0].encoded.count
        while taken < queued.count, bytes + queued[taken].encoded.count <= Self.maxBatchBytes {
            bytes += queued[taken].encoded.count
            taken += 1
        }
        let batch = Array(queued[..<taken])
        queued.removeFirst(taken)
        flushing = true
        let lsn = state.nextLSN
        condition.unlock()
        let outcome = Result { () throws(IndexError) in
            try log.append(WriteAheadLog.record(lsn: lsn, encoded: batch.map(\.encoded)))
        }
        if case .success = outcome {
            for ticket in batch { apply(ticket.operation) }
        }
        let logBytes = log.byteCount
        condition.lock()
        flushing = false
        switch outcome {
        case .success:
            for ticket in batch { ticket.result = .success(()) }
            state.nextLSN += 1
            state.syncs += 1
            state.changesSinceSnapshot += batch.count
            state.logBytes = logBytes
        case .failure(let error):
            for ticket in batch { ticket.result = .failure(error) }
        }
        condition.broadcast()
    }
}
