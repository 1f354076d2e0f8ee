import Index
import PostgresNIO

/// What a failed database call means for the caller.
enum DatabaseFailure: Error, Equatable {
    /// The index's own error (a missing collection found by a query, a refused vector, ...).
    case index(IndexError)
    /// The connection broke or the server is restarting, or the transaction lost a serialisation race: the
    /// same call may succeed when tried again.
    case transient(String)
    /// The items table is gone: the collection was deleted (by this server or another) during the call.
    case undefinedTable
    /// Anything else: a server fault, reported as is.
    case other(String)

    init(_ error: any Error) {
        switch error {
        case let error as DatabaseFailure:
            self = error
        case let error as IndexError:
            self = .index(error)
        case let error as PSQLError:
            self = Self.classify(error)
        case let error as PostgresTransactionError:
            // What failed inside the transaction (it was rolled back), or its BEGIN or COMMIT.
            if let inner = error.closureError ?? error.commitError ?? error.beginError {
                self = DatabaseFailure(inner)
            } else {
                self = .other("a transaction failed without an error")
            }
        default:
            self = .other("\(error)")
        }
    }

    /// SQLSTATE classes and codes worth a retry: connection exceptions (08), shutdown and startup (57P01-57P03),
    /// serialisation failures and deadlocks (40001, 40P01), too many connections (53300).
    static let transientStates: Set<String> = ["57P01", "57P02", "57P03", "40001", "40P01", "53300"]

    private static func classify(_ error: PSQLError) -> DatabaseFailure {
        let state = error.serverInfo?[.sqlState] ?? ""
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        switch error.code {
        case .server:
            if state == "42P01" { return .undefinedTable }
            if state.hasPrefix("08") || transientStates.contains(state) { return .transient("\(message) (SQLSTATE \(state))") }
            if state == "53100" {
                // disk_full: not transient; nothing of the transaction was committed.
                return .index(.outOfSpace(operation: "write to", path: "the PostgreSQL database", reason: message))
            }
            if state == "22P05" || state == "22021" {
                return .index(.invalidItem("PostgreSQL cannot store this text: \(message)"))
            }
            return .other("PostgreSQL error \(state): \(message)")
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
            return .transient("the connection to PostgreSQL closed (\(error.code))")
        default:
            return .other("PostgreSQL client error: \(error.code) \(message)")
        }
    }
}
