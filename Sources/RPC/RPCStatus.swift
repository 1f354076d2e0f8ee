/// A gRPC status: the outcome of a call. Handlers throw it to finish a call with that code; the
/// client throws it when a call ends with anything but `.ok`.
public struct RPCStatus: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static let ok = RPCStatus(.ok, "")

    /// The canonical gRPC codes (grpc/status.h), with their wire values.
    public enum Code: Int32, Sendable, CaseIterable {
        case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
            permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented,
            `internal`, unavailable, dataLoss, unauthenticated

        /// The canonical name, "OK", "INVALID_ARGUMENT", ... (as grpc status code names; logs and metrics use it).
        public var name: String {
            switch self {
            case .ok: "OK"
            case .cancelled: "CANCELLED"
            case .unknown: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }
    }

    /// Maps a wire code to a status; codes outside 0...16 become `.unknown` (as grpc does).
    init(wireCode: Int32, message: String) {
        self.init(Code(rawValue: wireCode) ?? .unknown, message)
    }

    public var description: String {
        message.isEmpty ? "\(code)" : "\(code): \(message)"
    }
}
