import CGRPCBridge
import Dispatch

/// A gRPC server over grpc++ (through CGRPCBridge) that runs every call of `router` as a Task.
///
/// Lifecycle: `idle` -start()-> `running` -shutdown()-> `stopping` -> `stopped`. Health reports every
/// service NOT_SERVING until `setServing(true, service:)`; reflection lists the router's services and
/// describes them from `ServerConfiguration.fileDescriptorSet`.
/// Client cancellation or an expired deadline cancels the handler's Task, and the call ends with
/// CANCELLED or DEADLINE_EXCEEDED whatever the handler does next.
public final class Server: Sendable {
    public enum State: Sendable, Equatable {
        case idle, running, stopping, stopped
    }

    private struct Running: @unchecked Sendable {  // the bridge server is thread-safe
        let server: OpaquePointer
        let context: Unmanaged<ServerCallContext>
    }

    private struct Locked {
        var state: State = .idle
        var running: Running?
        var serving: [String: Bool] = [:]  // asked for before start
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    public let configuration: ServerConfiguration
    public let router: Router
    private let locked = Mutex(Locked())

    public init(configuration: ServerConfiguration, router: Router) {
        self.configuration = configuration
        self.router = router
    }

    deinit {
        // Not shut down by the owner: stop without draining.
        if let running = locked.withLock({ $0.running }) {
            rg_server_destroy(running.server)
            running.context.release()
        }
    }

    public var state: State { locked.withLock { $0.state } }

    /// Binds and starts serving. Returns the bound port of each listen address, in order.
    public func start() throws(ServerError) -> [Int] {
        try locked.withLock { (s: inout Locked) throws(ServerError) -> [Int] in
            guard s.state == .idle else { throw .invalidState("start() in state \(s.state)") }
            var error = [CChar](repeating: 0, count: 512)
            if !configuration.fileDescriptorSet.isEmpty {
                guard Self.registerDescriptors(configuration.fileDescriptorSet, error: &error) else {
                    throw .startFailed("reflection descriptors: \(Self.text(error))")
                }
            }
            let context = Unmanaged.passRetained(ServerCallContext(router: router))
            let server = Self.startBridge(
                configuration, methods: router.methods, unaryMethods: router.unaryMethods, context: context, error: &error)
            guard let server else {
                context.release()
                throw .startFailed(Self.text(error))
            }
            for (service, serving) in s.serving { _ = rg_server_set_serving(server, service, serving ? 1 : 0) }
            s.running = Running(server: server, context: context)
            s.state = .running
            return configuration.listenAddresses.indices.map { Int(rg_server_bound_port(server, $0)) }
        }
    }

    /// Sets the health status of `service` ("" for the server as a whole). Before start() it is
    /// remembered; after shutdown() it is ignored (everything is NOT_SERVING then).
    public func setServing(_ serving: Bool, service: String) {
        locked.withLock { s in
            if let running = s.running {
                _ = rg_server_set_serving(running.server, service, serving ? 1 : 0)
            } else if s.state == .idle {
                s.serving[service] = serving
            }
        }
    }

    /// Stops accepting calls, reports NOT_SERVING, lets in-flight calls run until `drainDeadline`
    /// from now, then cancels the rest. Returns when every call has ended.
    public func shutdown(drainDeadline: Duration) async {
        let running: Running? = locked.withLock { s in
            switch s.state {
            case .idle:
                s.state = .stopped
                return nil
            case .running:
                s.state = .stopping
                return s.running
            case .stopping, .stopped:
                return nil
            }
        }
        guard let running else {
            await wait()
            return
        }
        let drainMs = drainDeadline.milliseconds
        // rg_server_shutdown blocks until calls end: keep it off the cooperative thread pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = rg_server_shutdown(running.server, drainMs)
                done.resume()
            }
        }
        let waiters = locked.withLock { s in
            rg_server_destroy(running.server)
            running.context.release()
            s.running = nil
            s.state = .stopped
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the server has stopped (immediately if it never started and was shut down).
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = locked.withLock { s in
                if s.state == .stopped { return true }
                s.waiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Hands the descriptor set to the bridge, which skips the files an earlier start registered.
    private static func registerDescriptors(_ set: [UInt8], error: inout [CChar]) -> Bool {
        let result = set.withUnsafeBufferPointer { bytes in
            error.withUnsafeMutableBufferPointer { buffer in
                rg_register_descriptors(bytes.baseAddress, bytes.count, buffer.baseAddress, buffer.count)
            }
        }
        return Int(result) == RG_OK
    }

    /// The NUL-terminated text the bridge wrote into `error`.
    private static func text(_ error: [CChar]) -> String {
        String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func startBridge(
        _ configuration: ServerConfiguration, methods: [String], unaryMethods: [String], context: Unmanaged<ServerCallContext>,
        error: inout [CChar]
    ) -> OpaquePointer? {
        let tls = configuration.tls
        return withCStrings(configuration.listenAddresses) { addresses in
            // One array of names: the registered methods, then the unary ones among them.
            withCStrings(methods + unaryMethods) { names in
                withOptionalCString(tls?.certificateChainPath) { chain in
                    withOptionalCString(tls?.privateKeyPath) { key in
                        withOptionalCString(tls?.clientCAPath) { clientCA in
                            var options = rg_server_options()
                            rg_server_options_init(&options)
                            options.listen_addresses = addresses.baseAddress
                            options.listen_address_count = addresses.count
                            options.method_names = names.baseAddress
                            options.method_count = methods.count
                            options.unary_method_names = names.baseAddress.map { $0 + methods.count }
                            options.unary_method_count = unaryMethods.count
                            options.max_receive_message_bytes = configuration.maxReceiveMessageBytes.map(Int32.init(clamping:)) ?? 0
                            options.max_send_message_bytes = configuration.maxSendMessageBytes.map(Int32.init(clamping:)) ?? 0
                            options.max_concurrent_streams = configuration.maxConcurrentStreams.map(Int32.init(clamping:)) ?? 0
                            if let keepalive = configuration.keepalive {
                                options.keepalive_time_ms = max(1, keepalive.time.clampedMilliseconds)
                                options.keepalive_timeout_ms = max(1, keepalive.timeout.clampedMilliseconds)
                                options.keepalive_min_client_interval_ms =
                                    keepalive.minClientPingInterval.map { max(1, $0.clampedMilliseconds) } ?? 0
                            }
                            options.tls_certificate_chain_path = chain
                            options.tls_private_key_path = key
                            options.tls_client_ca_path = clientCA
                            options.tls_require_client_cert = (tls?.requireClientCertificate ?? false) ? 1 : 0
                            options.on_call = serverOnCall
                            options.on_event = serverOnEvent
                            options.context = context.toOpaque()
                            return error.withUnsafeMutableBufferPointer { buffer in
                                rg_server_start(&options, buffer.baseAddress, buffer.count)
                            }
                        }
                    }
                }
            }
        }
    }
}

public enum ServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// start() called twice, or after shutdown.
    case invalidState(String)
    /// grpc++ refused the configuration (address in use, unreadable certificate, ...).
    case startFailed(String)

    public var description: String {
        switch self {
        case .invalidState(let reason): "server: \(reason)"
        case .startFailed(let reason): "server failed to start: \(reason)"
        }
    }
}

/// Calls `body` with NUL-terminated copies of `strings` (valid only inside `body`).
func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
    withCBytes(strings.map { Array($0.utf8) }, body)
}

/// Calls `body` with copies of `arrays`, each followed by a NUL (valid only inside `body`).
func withCBytes<R>(_ arrays: [[UInt8]], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = arrays.map { bytes in
        let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, byte) in bytes.enumerated() { copy[i] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        return copy
    }
    defer { for copy in copies { copy.deallocate() } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.baseAddress.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer(body)
}

func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
