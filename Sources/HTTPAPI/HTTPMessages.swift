import Foundation
import NIOCore
import NIOHTTP1

/// A whole HTTP request as the API sees it: the connection handler has read the body (within the size limit).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query string.
    public var path: String
    public var headers: HTTPHeaders
    public var body: Data
    /// The client's address, "ipv4:127.0.0.1:53422" (as grpc++ writes peers).
    public var peer: String

    public init(method: HTTPMethod, path: String, headers: HTTPHeaders = [:], body: Data = Data(), peer: String = "in-process") {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.peer = peer
    }
}

public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    init(status: HTTPResponseStatus, json: String) {
        self.status = status
        self.headers = ["content-type": "application/json"]
        self.body = Array(json.utf8)
    }

    init(status: HTTPResponseStatus, json bytes: [UInt8]) {
        self.status = status
        self.headers = ["content-type": "application/json"]
        self.body = bytes
    }

    init(status: HTTPResponseStatus, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
