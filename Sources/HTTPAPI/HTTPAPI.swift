import Foundation
import Logging
import NIOHTTP1
import RPC
import RosettaAPI
import Service

/// The HTTP/JSON API: OpenAI's `POST /v1/embeddings` and `GET /v1/models`, the Index over REST (bodies in the
/// proto3 JSON mapping of its messages), `GET /v1/info`, `/healthz`, `/readyz`, `/openapi.json`, and the web
/// console at `/`.
///
/// Transport-free like `RPC.Router`: `respond(to:)` takes a whole request and gives a whole response, so tests
/// run it with no socket; `HTTPServer` feeds it from SwiftNIO. It calls the very services gRPC calls
/// (`EmbeddingsService.embed`, `IndexService`'s methods) in process: one validation, one set of limits, one
/// batch scheduler. Bearer tokens, request ids, the request log and metrics are the gRPC side's: the same
/// `authenticate` and `onRequestFinished` with a `CallContext` whose transport is "http". Errors become
/// statuses in `HTTPFailure` only.
public struct HTTPAPI: Sendable {
    let embeddings: EmbeddingsService
    let index: IndexService
    let authenticate: (@Sendable (Metadata) throws -> Void)?
    let state: @Sendable () -> ServerState
    let onRequestFinished: (@Sendable (CallContext, RPCStatus, Duration) -> Void)?
    /// Fetching of images named by http(s) URL; nil: refused (the default).
    let remoteMedia: RemoteMedia?
    let logger: Logger

    public init(
        embeddings: EmbeddingsService, index: IndexService, authenticate: (@Sendable (Metadata) throws -> Void)?,
        state: @escaping @Sendable () -> ServerState,
        onRequestFinished: (@Sendable (CallContext, RPCStatus, Duration) -> Void)?, remoteMedia: RemoteMedia? = nil,
        logger: Logger
    ) {
        self.embeddings = embeddings
        self.index = index
        self.authenticate = authenticate
        self.state = state
        self.onRequestFinished = onRequestFinished
        self.remoteMedia = remoteMedia
        self.logger = logger
    }

    /// The `method` label of the request log and metrics for each route.
    public static var methods: [String] { Route.allCases.map(\.rawValue) }

    /// Runs one request to its response. Never throws: every error becomes its status here.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let matched = Result { () throws(RouteError) in try Route.match(request.method, request.path) }
        let context = Self.context(request.method, path: request.path, headers: request.headers, peer: request.peer)
        var response: HTTPResponse
        var status = RPCStatus.ok
        do {
            // Before the route lookup: an unauthenticated client learns nothing about the routes.
            if (try? matched.get())?.route.isOpen != true { try authenticate?(context.metadata) }
            let (route, parameter) = try matched.get()
            response = try await handle(route, parameter: parameter, request: request)
        } catch {
            let failure = HTTPFailure(error)
            if failure.status.code == .internal {
                logger.error("handler failed", metadata: ["method": "\(context.method)", "error": "\(error)"])
            }
            status = failure.status
            response = failure.response
        }
        response.headers.replaceOrAdd(name: "x-request-id", value: context.requestID)
        onRequestFinished?(context, status, ContinuousClock.now - started)
        return response
    }

    /// The response to a request the connection refused before it was whole (a body over the size limit),
    /// logged and counted like any other.
    func refuse(_ method: HTTPMethod, path: String, headers: HTTPHeaders, peer: String, bodyBytes: Int?, maximum: Int) -> HTTPResponse {
        refuse(method, path: path, headers: headers, peer: peer, with: .bodyTooLarge(bytes: bodyBytes, maximum: maximum))
    }

    /// A request that arrived on an open connection after draining began.
    func refuseWhileDraining(_ request: HTTPRequest) -> HTTPResponse {
        let failure = HTTPFailure(RPCStatus(.unavailable, "the server is shutting down; retry (on another server)"))
        return refuse(request.method, path: request.path, headers: request.headers, peer: request.peer, with: failure)
    }

    private func refuse(_ method: HTTPMethod, path: String, headers: HTTPHeaders, peer: String, with failure: HTTPFailure) -> HTTPResponse {
        let context = Self.context(method, path: path, headers: headers, peer: peer)
        var response = failure.response
        response.headers.replaceOrAdd(name: "x-request-id", value: context.requestID)
        onRequestFinished?(context, failure.status, .zero)
        return response
    }

    /// The request as the request log and metrics see a call: the route as its method ("POST /v1/embeddings";
    /// the method and path when no route has them, counted as "unknown"), the headers as metadata.
    private static func context(_ method: HTTPMethod, path: String, headers: HTTPHeaders, peer: String) -> CallContext {
        let metadata = Metadata(headers.map { (key: $0.name.lowercased(), value: $0.value) })
        let route = (try? Route.match(method, path))?.route.rawValue ?? "\(method.rawValue) \(path)"
        return CallContext(method: route, metadata: metadata, peer: peer, transport: "http")
    }

    private func handle(_ route: Route, parameter: String?, request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .health:
            return HTTPResponse(status: .ok, json: #"{"status":"alive"}"#)
        case .ready:
            let current = state()
            guard current.isServing else {
                let reason = current == .draining || current == .stopped ? "the server is shutting down" : "the server is still loading its models"
                throw RPCStatus(.unavailable, "not ready: \(reason)")
            }
            return HTTPResponse(status: .ok, json: #"{"status":"ready"}"#)
        case .openAPI:
            return HTTPResponse(status: .ok, json: OpenAPIDocument.json)
        case .models:
            return HTTPResponse(status: .ok, json: ModelList.json(embeddings.info()))
        case .model:
            return HTTPResponse(status: .ok, json: try ModelList.model(named: parameter ?? "", in: embeddings.info()))
        case .info:
            return try IndexRoutes.json(embeddings.info())
        case .console:
            return try ConsoleFiles.response(for: "index.html")
        case .consoleFile:
            return try ConsoleFiles.response(for: parameter ?? "")
        case .embeddings:
            var body = try EmbeddingsRequest(Self.json(request.body))
            try await body.fetchRemoteImages(remoteMedia)
            let response = try await embeddings.embed(body.embed)
            return HTTPResponse(status: .ok, json: try EmbeddingsResponse.json(response, format: body.format))
        default:
            return try await IndexRoutes(index: index).handle(route, collection: parameter, body: request.body)
        }
    }

    static func json(_ body: Data) throws(ServiceError) -> JSONValue {
        guard !body.isEmpty else { throw .invalidArgument("the request has no body: send a JSON object (content-type: application/json)") }
        do {
            return try JSONValue(parsing: body)
        } catch {
            throw .malformedRequest(message: "JSON document", reason: error.reason)
        }
    }
}
