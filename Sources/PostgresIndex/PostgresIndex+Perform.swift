import Index
import PostgresNIO
import Synchronization

extension PostgresIndex {
    /// Runs `body` on a pooled connection. Waiting for a connection is bounded by `configuration.timeout`; errors
    /// that a retry may cure (a connection closed by a database restart, a serialisation failure) are retried
    /// with backoff until that deadline; then the call fails `unavailable`. Other errors become `IndexError`s
    /// (a vanished items table: `collectionNotFound(collection)`).
    ///
    /// A retried write is safe: an upsert is idempotent, and a delete of what is already gone deletes nothing.
    func perform<T: Sendable>(
        _ operation: String, collection: String? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(IndexError) -> T {
        let deadline = ContinuousClock.now + configuration.timeout
        var backoff: Duration = .milliseconds(50)
        var lastProblem = "no connection within \(configuration.timeout)"
        while true {
            let failure: DatabaseFailure
            do {
                return try await withConnection(before: deadline, body)
            } catch {
                failure = DatabaseFailure(error)
            }
            switch failure {
            case .index(let error):
                throw error
            case .undefinedTable:
                throw .collectionNotFound(collection ?? "")
            case .other(let message):
                logger.error("index database call failed", metadata: ["operation": "\(operation)", "error": "\(message)"])
                throw .backend("could not \(operation): \(message)")
            case .transient(let problem):
                lastProblem = problem
                if ContinuousClock.now + backoff < deadline, !Task.isCancelled {
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(1))
                    continue
                }
            }
            logger.warning("index database unavailable", metadata: ["operation": "\(operation)", "problem": "\(lastProblem)"])
            throw .unavailable(
                "could not \(operation): the index database (PostgreSQL at \(configuration.location)) is unavailable: \(lastProblem)")
        }
    }

    /// `body` on a connection leased before `deadline` (a `transient` failure otherwise). Once it has a
    /// connection, `body` runs to its end: a long write is not cut off by the deadline.
    private func withConnection<T: Sendable>(
        before deadline: ContinuousClock.Instant, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = LeaseFlag()
        let client = client
        let timeout = configuration.timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.value.store(true, ordering: .sequentiallyConsistent)
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(until: deadline)
                guard !leased.value.load(ordering: .sequentiallyConsistent) else {
                    try await Task.sleep(for: .seconds(86_400 * 365))  // the call runs on; cancelled when it ends
                    return nil
                }
                throw DatabaseFailure.transient("no connection within \(timeout) (is the database running and reachable?)")
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw DatabaseFailure.transient("the call was cancelled")
        }
    }
}

/// Set once a call has its connection.
private final class LeaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}
