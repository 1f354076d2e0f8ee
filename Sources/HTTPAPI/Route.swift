import Foundation
import NIOHTTP1

/// The HTTP API's routes, each named "METHOD /path/{parameter}" (the name is the `method` of the request log and
/// metrics). One route per Index RPC; a `{collection}` in the path is the request's `collection` field.
public enum Route: String, CaseIterable, Sendable {
    /// The web console (console/ in the repository, embedded in the binary: `ConsoleFiles`).
    case console = "GET /"
    case consoleFile = "GET /console/{file}"
    case health = "GET /healthz"
    case ready = "GET /readyz"
    case openAPI = "GET /openapi.json"
    case models = "GET /v1/models"
    case model = "GET /v1/models/{model}"
    case embeddings = "POST /v1/embeddings"
    /// gRPC's Info in proto3 JSON: the version, models, limits and compute threads.
    case info = "GET /v1/info"
    case createCollection = "POST /v1/collections"
    case listCollections = "GET /v1/collections"
    case getCollection = "GET /v1/collections/{collection}"
    case deleteCollection = "DELETE /v1/collections/{collection}"
    case upsert = "POST /v1/collections/{collection}/upsert"
    case get = "POST /v1/collections/{collection}/get"
    case delete = "POST /v1/collections/{collection}/delete"
    case search = "POST /v1/collections/{collection}/search"

    /// Served without a bearer token, like gRPC's health and reflection (the console's files are static: the
    /// page asks for a token when the API wants one).
    var isOpen: Bool { [.health, .ready, .openAPI, .console, .consoleFile].contains(self) }

    private var parts: (method: String, segments: [Substring]) {
        let space = rawValue.firstIndex(of: " ") ?? rawValue.endIndex
        return (String(rawValue[..<space]), rawValue[space...].dropFirst().split(separator: "/"))
    }

    /// The route for `method` and `path`, with the path parameter (percent-decoded) if it has one; 404 when no
    /// route has the path, 405 when routes have it for other methods only.
    static func match(_ method: HTTPMethod, _ path: String) throws(RouteError) -> (route: Route, parameter: String?) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        // "/" is the one path of no segment (every route's pattern drops the empty one after its slash).
        if segments == [""] { segments = [] }
        var allowed: [String] = []
        for route in allCases {
            let (routeMethod, pattern) = route.parts
            guard pattern.count == segments.count else { continue }
            var parameter: String?
            let matches = zip(pattern, segments).allSatisfy { expected, actual in
                guard expected.hasPrefix("{") else { return expected == actual }
                guard !actual.isEmpty, let decoded = String(actual).removingPercentEncoding else { return false }
                parameter = decoded
                return true
            }
            guard matches else { continue }
            if routeMethod == method.rawValue { return (route, parameter) }
            allowed.append(routeMethod)
        }
        guard allowed.isEmpty else {
            throw RouteError(httpStatus: .methodNotAllowed, message: "\(method.rawValue) is not served on \(path); use \(allowed.joined(separator: " or "))")
        }
        throw RouteError(httpStatus: .notFound, message: "no route for \(method.rawValue) \(path); the API is POST /v1/embeddings, GET /v1/models, the Index under /v1/collections, and /openapi.json describes it all (the web console is at /)")
    }
}
