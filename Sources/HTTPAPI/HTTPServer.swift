import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The HTTP/1.1 listener of the HTTP API (--http-address), on SwiftNIO's shared event loops beside the gRPC
/// transport, with keep-alive and, when given certificate and key, TLS (the same files as gRPC's; with a client
/// CA, client certificates are required and verified).
///
/// Request bodies are read whole before the API runs, up to `maxBodyBytes`: a request declaring more (its
/// content-length) or sending more (chunked) is answered 413 at once and its body discarded, never buffered.
/// A connection silent for `idleTimeout` outside a running request is closed.
/// `shutdown(drainDeadline:)` stops accepting, closes idle keep-alive connections, lets requests in flight
/// finish (their responses say `connection: close`) until the deadline, then closes what is left.
public final class HTTPServer: Sendable {
    public struct TLS: Sendable {
        public var certificateChainPath: String
        public var privateKeyPath: String
        public var clientCAPath: String?

        public init(certificateChainPath: String, privateKeyPath: String, clientCAPath: String?) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
            self.clientCAPath = clientCAPath
        }
    }

    /// A connection that sends nothing for this long between requests (or while sending one) is closed.
    static let idleTimeout = TimeAmount.seconds(120)

    private let listener: any Channel
    private let connections: Connections
    /// The bound port (useful with port 0).
    public let port: Int

    /// Binds `address` ("host:port") and starts serving `api`.
    public init(address: String, tls: TLS?, maxBodyBytes: Int, api: HTTPAPI) async throws {
        let (host, port) = try Self.split(address)
        let sslContext = try tls.map(Self.sslContext)
        let connections = Connections()
        self.connections = connections
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.add(channel) else {
                        // Draining: a connection accepted just before the listener closed.
                        channel.close(promise: nil)
                        return
                    }
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPConnectionHandler(api: api, maxBodyBytes: maxBodyBytes, connections: connections))
                }
            }
            .bind(host: host, port: port).get()
        self.port = listener.localAddress?.port ?? port
    }

    /// Stops accepting connections and lets requests in flight finish within `drainDeadline`.
    public func shutdown(drainDeadline: Duration) async {
        try? await listener.close()
        for channel in connections.startDraining() { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + drainDeadline
        while connections.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in connections.all { try? await channel.close() }
    }

    public static func split(_ address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon != address.startIndex
        else {
            throw HTTPAddressError(address: address)
        }
        return (address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    private static func sslContext(_ tls: TLS) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        var configuration = NIOSSL.TLSConfiguration.makeServerConfiguration(
            // PEM whatever the file's extension (NIOSSL's `.file` guesses the format from it), as grpc++ reads it.
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)))
        if let ca = tls.clientCAPath {
            configuration.trustRoots = .file(ca)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

public struct HTTPAddressError: Error, CustomStringConvertible {
    let address: String
    public var description: String { "HTTP address '\(address)' is not host:port (e.g. 127.0.0.1:8080)" }
}

/// The open connections, and which are between requests (idle), so that draining can close those at once.
final class Connections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: (channel: any Channel, busy: Bool)] = [:]
        var draining = false
    }

    private let state = Mutex(State())

    /// Registers a new connection; false when draining (the caller closes it).
    func add(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.open[ObjectIdentifier(channel)] = (channel, false)
            return true
        }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a request in flight (true) or answered (false); returns whether the server is draining.
    func setBusy(_ channel: any Channel, _ busy: Bool) -> Bool {
        state.withLock { state in
            state.open[ObjectIdentifier(channel)]?.busy = busy
            return state.draining
        }
    }

    var isDraining: Bool { state.withLock { $0.draining } }
    var count: Int { state.withLock { $0.open.count } }
    var all: [any Channel] { state.withLock { $0.open.values.map(\.channel) } }

    /// Refuses new connections from now on; returns the idle ones, to be closed.
    func startDraining() -> [any Channel] {
        state.withLock { state in
            state.draining = true
            return state.open.values.filter { !$0.busy }.map(\.channel)
        }
    }
}
