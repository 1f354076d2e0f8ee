import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The Prometheus scrape endpoint on its own port (`--metrics-address`): a minimal HTTP/1.1 server that answers
/// GET /metrics with the registry in the text exposition format, and 404 to anything else. Each response closes
/// its connection. It runs on SwiftNIO's shared event loops, apart from the gRPC transport, so a busy gRPC port
/// does not stop the scrapes.
final class MetricsEndpoint: Sendable {
    private let channel: any Channel
    /// The bound port (useful with port 0).
    let port: Int

    /// Binds `address` ("host:port"). `beforeScrape` runs before each response (it refreshes the index sizes).
    init(
        address: String, registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () async -> Void
    ) async throws {
        let (host, port) = try Self.split(address)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsRequestHandler(registry: registry, beforeScrape: beforeScrape))
                }
            }
            .bind(host: host, port: port).get()
        self.port = channel.localAddress?.port ?? port
    }

    func stop() async {
        try? await channel.close()
    }

    static func split(_ address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon != address.startIndex
        else {
            throw MetricsAddressError(address: address)
        }
        let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host, port)
    }
}

struct MetricsAddressError: Error, CustomStringConvertible {
    let address: String
    var description: String { "metrics address '\(address)' is not host:port (e.g. 127.0.0.1:9464)" }
}

/// One HTTP request at a time per connection: remembers the head, answers at its end.
private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let beforeScrape: @Sendable () async -> Void
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () async -> Void) {
        self.registry = registry
        self.beforeScrape = beforeScrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            guard head.method == .GET, path == "/metrics" else {
                respond(context: context, status: .notFound, body: Array("not found: only GET /metrics is served\n".utf8))
                return
            }
            let (registry, beforeScrape) = (self.registry, self.beforeScrape)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask {
                await beforeScrape()
                return registry.emitToBuffer()
            }.whenSuccess { body in
                let (handler, context) = bound.value
                handler.respond(context: context, status: .ok, body: body)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8]) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
        headers.add(name: "content-length", value: "\(body.count)")
        headers.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }
}
