import RPC

/// A failure the CLI prints as one line before exiting non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// The gRPC status code behind the failure, when it came from a call.
    var status: RPCStatus.Code?

    init(_ description: String) { self.description = description }

    /// The one place a failed call becomes a message: what was tried, where, and what to do about it.
    init(_ status: RPCStatus, calling method: String, at address: String, timeout: Double) {
        let call = method.split(separator: "/").last.map(String.init) ?? method
        self.status = status.code
        self.description = switch status.code {
        case .unavailable:
            "cannot reach rosetta-server at \(address) (is it running? --address or ROSETTA_ADDRESS): \(status.message)"
        case .deadlineExceeded:
            "rosetta-server at \(address) did not answer \(call) within \(timeout) s (--timeout)"
        case .unauthenticated:
            "rosetta-server at \(address) refused \(call): \(status.message) (give a token with --token or ROSETTA_TOKEN)"
        case .permissionDenied:
            "rosetta-server at \(address) refused \(call): \(status.message)"
        case .notFound, .alreadyExists, .invalidArgument, .failedPrecondition, .resourceExhausted, .outOfRange:
            "\(call): \(status.code.canonicalName): \(status.message)"
        case .unimplemented:
            "\(call) is not served at \(address) (an older server?): \(status.message)"
        default:
            "\(call) failed with \(status.code.canonicalName): \(status.message)"
        }
    }
}
