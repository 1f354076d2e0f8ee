import Index
import NIOHTTP1
import RPC
import Service

/// The one place where errors become HTTP statuses and OpenAI's error object,
/// `{"error": {"message", "type", "param", "code"}}`. The classification is gRPC's: every error first becomes
/// the status `RPCStatus(mapping:)` gives it (the message and code a gRPC client would see, which the request
/// log and metrics record), and the HTTP status follows from that code. RESOURCE_EXHAUSTED alone is split by
/// cause, since HTTP clients act on the difference: a full queue is 429 (retry after a backoff), a full disk
/// 507, the collection limit 409, and a request over a size limit 413 (retrying the same request cannot help).
struct HTTPFailure: Error, Sendable {
    /// As a gRPC client would see it.
    let status: RPCStatus
    let httpStatus: HTTPResponseStatus
    /// OpenAI's `param`: the request field at fault, when one is.
    var param: String?

    init(_ error: any Error) {
        switch error {
        case let failure as HTTPFailure:
            self = failure
            return
        case let failure as ItemFailure:
            status = failure.rpcStatus
            param = "input"
        case let route as RouteError:
            status = RPCStatus(.unimplemented, route.message)
            httpStatus = route.httpStatus
            return
        case is CancellationError:
            status = RPCStatus(.cancelled, "the request was cancelled: the client went away")
        default:
            status = RPCStatus(mapping: error)
        }
        httpStatus = Self.httpStatus(for: status.code, cause: error)
    }

    /// A request body over --max-message-bytes (`bytes` nil: a chunked body, refused once it passed the limit).
    static func bodyTooLarge(bytes: Int?, maximum: Int) -> HTTPFailure {
        let size = bytes.map { "\($0) bytes" } ?? "more than \(maximum) bytes"
        return HTTPFailure(RPCStatus(.resourceExhausted,
            "the request body is \(size), over the server's limit of \(maximum) bytes (rosetta-server --max-message-bytes); send fewer or smaller inputs per request"))
    }

    static func httpStatus(for code: RPCStatus.Code, cause: any Error) -> HTTPResponseStatus {
        switch code {
        case .ok: return .ok
        case .invalidArgument, .failedPrecondition, .outOfRange: return .badRequest
        case .unauthenticated: return .unauthorized
        case .permissionDenied: return .forbidden
        case .notFound: return .notFound
        case .alreadyExists, .aborted: return .conflict
        case .resourceExhausted:
            if case .overloaded? = cause as? ServiceError { return .tooManyRequests }
            switch cause as? IndexError {
            case .outOfSpace?: return .insufficientStorage
            case .tooManyCollections?: return .conflict
            default: return .payloadTooLarge
            }
        case .cancelled: return .custom(code: 499, reasonPhrase: "Client Closed Request")
        case .deadlineExceeded: return .gatewayTimeout
        case .unimplemented: return .notImplemented
        case .unavailable: return .serviceUnavailable
        case .unknown, .internal, .dataLoss: return .internalServerError
        }
    }

    /// OpenAI's error type for the HTTP status.
    var type: String {
        switch httpStatus.code {
        case 400, 413: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404, 405: "not_found_error"
        case 409: "conflict_error"
        case 429: "rate_limit_error"
        default: httpStatus.code >= 500 ? "server_error" : "invalid_request_error"
        }
    }

    /// OpenAI's `code`: the gRPC code's name in lower case ("invalid_argument"), or "model_not_found".
    var code: String {
        status.code == .notFound && status.message.hasPrefix("model '") ? "model_not_found" : status.code.name.lowercased()
    }

    var response: HTTPResponse {
        let error: JSONValue = .object([
            ("message", .string(status.message)), ("type", .string(type)),
            ("param", param.map(JSONValue.string) ?? .null), ("code", .string(code)),
        ])
        var response = HTTPResponse(status: httpStatus, json: JSONValue.object([("error", error)]).serialized)
        switch httpStatus {
        case .unauthorized: response.headers.add(name: "www-authenticate", value: "Bearer")
        case .tooManyRequests, .serviceUnavailable: response.headers.add(name: "retry-after", value: "1")
        default: break
        }
        return response
    }
}

/// No route for the request's method and path.
struct RouteError: Error, Sendable {
    let httpStatus: HTTPResponseStatus
    let message: String
}
