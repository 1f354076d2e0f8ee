import Foundation
import NIOCore
import NIOHTTP1
import RPC

/// One HTTP/1.1 connection: gathers a request's body (within the size limit), runs the API on a Task started
/// on the event loop, writes the response. NIO's pipeline handler holds pipelined requests back until the response before them is
/// written, so a connection has at most one request in flight; when the connection closes, that request's Task
/// is cancelled (its queued or running model work stops, as for a cancelled gRPC call).
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// Refused for its size: the rest of the body is read and dropped, then the connection closes.
        case discarding
        case responding
    }

    private let api: HTTPAPI
    private let maxBodyBytes: Int
    private let connections: Connections
    private var state = State.idle
    private var task: Task<Void, Never>?

    init(api: HTTPAPI, maxBodyBytes: Int, connections: Connections) {
        self.api = api
        self.maxBodyBytes = maxBodyBytes
        self.connections = connections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) }
            if let declared, declared > maxBodyBytes {
                refuse(context: context, head: head, bytes: declared)
            } else {
                // Reserved up to 1 MiB only: a declared length costs nothing until its bytes arrive.
                state = .receiving(head, context.channel.allocator.buffer(capacity: min(declared ?? 0, 1 << 20)))
            }
        case .body(var chunk):
            guard case .receiving(let head, var body) = state else { return }
            guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else {
                refuse(context: context, head: head, bytes: nil)
                return
            }
            state = .idle  // so that `body` is uniquely referenced while it grows
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case .end:
            switch state {
            case .receiving(let head, let body):
                state = .responding
                run(context: context, head: head, body: body)
            case .discarding:
                context.close(promise: nil)
            case .idle, .responding:
                break
            }
        }
    }

    /// The connection was silent for `HTTPServer.idleTimeout`: closed unless its request is running (a long
    /// transcription reads nothing while it runs).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if case .responding = state { return }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        connections.remove(context.channel)
        context.fireChannelInactive()
    }

    private func refuse(context: ChannelHandlerContext, head: HTTPRequestHead, bytes: Int?) {
        state = .discarding
        let response = api.refuse(head.method, path: Self.path(head.uri), headers: head.headers, peer: Self.peer(context.channel),
                                  bodyBytes: bytes, maximum: maxBodyBytes)
        // "connection: close" now, the close itself once the body has been read: closing with unread bytes
        // would reset the connection, and the client might never read the 413.
        var refusal = response
        refusal.headers.replaceOrAdd(name: "connection", value: "close")
        write(refusal, version: head.version, close: false, context: context)
    }

    private func run(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let request = HTTPRequest(
            method: head.method, path: Self.path(head.uri), headers: head.headers, body: body.withUnsafeReadableBytes { Data($0) },
            peer: Self.peer(context.channel))
        let draining = connections.setBusy(context.channel, true)
        let (api, connections, channel) = (self.api, self.connections, context.channel)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // Started on this event loop and run here until its first suspension, as grpc++ starts a unary call: a
        // lone text request's forward may then run on this thread (BatchScheduler's inline path) and the
        // response be written from it, with no thread hand-off.
        let task = ReceivingThread.run {
            Task.immediate {
                let response = draining ? api.refuseWhileDraining(request) : await api.respond(to: request)
                let close = !head.isKeepAlive || connections.setBusy(channel, false)
                let finish = {
                    let (handler, context) = bound.value
                    handler.task = nil
                    handler.state = .idle
                    handler.write(response, version: head.version, close: close, context: context)
                }
                if channel.eventLoop.inEventLoop { finish() } else { channel.eventLoop.execute(finish) }
            }
        }
        if case .responding = state { self.task = task }
    }

    private func write(_ response: HTTPResponse, version: HTTPVersion, close: Bool, context: ChannelHandlerContext) {
        var headers = response.headers
        headers.replaceOrAdd(name: "content-length", value: "\(response.body.count)")
        if close {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version == .http1_0 && !headers.contains(name: "connection") {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }

    static func path(_ uri: String) -> String {
        String(uri.prefix { $0 != "?" && $0 != "#" })
    }

    /// "ipv4:127.0.0.1:53422", as grpc++ writes a peer.
    static func peer(_ channel: any Channel) -> String {
        guard let address = channel.remoteAddress, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        if case .v6 = address { return "ipv6:[\(ip)]:\(port)" }
        return "ipv4:\(ip):\(port)"
    }
}
