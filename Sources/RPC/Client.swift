import CGRPCBridge

/// Client TLS. All paths are PEM files.
public struct ClientTLS: Sendable, Equatable {
    /// Roots that verify the server; nil: the system roots.
    public var rootCertificatesPath: String?
    /// Client certificate and key for mTLS; both or neither.
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// Name to verify the server certificate against instead of the target's host.
    public var serverNameOverride: String?

    public init(
        rootCertificatesPath: String? = nil, certificateChainPath: String? = nil, privateKeyPath: String? = nil,
        serverNameOverride: String? = nil
    ) {
        self.rootCertificatesPath = rootCertificatesPath
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.serverNameOverride = serverNameOverride
    }
}

/// A gRPC client over one grpc++ channel (connected lazily, reconnecting by itself), for the CLI
/// and the live tests. Calls are bytes in, bytes out; failures are thrown as `RPCStatus`.
public final class Client: Sendable {
    private let handle: BridgeHandle

    /// - Throws: `RPCStatus(.invalidArgument)` when a PEM file cannot be read.
    public init(
        target: String, tls: ClientTLS? = nil, maxReceiveMessageBytes: Int? = nil, maxSendMessageBytes: Int? = nil
    ) throws(RPCStatus) {
        var error = [CChar](repeating: 0, count: 512)
        let client = withOptionalCString(target) { target in
            withOptionalCString(tls.map { $0.rootCertificatesPath ?? "" }) { roots in
                withOptionalCString(tls?.certificateChainPath) { chain in
                    withOptionalCString(tls?.privateKeyPath) { key in
                        withOptionalCString(tls?.serverNameOverride) { authority in
                            var options = rg_client_options()
                            rg_client_options_init(&options)
                            options.target = target
                            options.root_ca_path = roots
                            options.certificate_chain_path = chain
                            options.private_key_path = key
                            options.authority = authority
                            options.max_receive_message_bytes = maxReceiveMessageBytes.map(Int32.init(clamping:)) ?? 0
                            options.max_send_message_bytes = maxSendMessageBytes.map(Int32.init(clamping:)) ?? 0
                            return error.withUnsafeMutableBufferPointer { rg_client_create(&options, $0.baseAddress, $0.count) }
                        }
                    }
                }
            }
        }
        guard let client else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RPCStatus(.invalidArgument, reason)
        }
        self.handle = BridgeHandle(pointer: client)
    }

    deinit {
        rg_client_destroy(handle.pointer)
    }

    /// One request, one response. Cancelling the calling Task cancels the call.
    public func unary(
        _ method: String, _ request: [UInt8], metadata: Metadata = [], timeout: Duration? = nil
    ) async throws(RPCStatus) -> [UInt8] {
        let stream = try bidiStream(method, metadata: metadata, timeout: timeout)
        try await stream.send(request)
        stream.closeSend()
        guard let response = try await stream.receive() else {
            throw RPCStatus(.internal, "unary call ended without a response message")
        }
        guard try await stream.receive() == nil else {
            stream.cancel()
            throw RPCStatus(.internal, "unary call returned more than one response message")
        }
        return response
    }

    /// Opens a bidirectional stream (client- and server-streaming calls use it too).
    /// - Throws: `RPCStatus(.invalidArgument)` for metadata grpc would refuse (keys must be
    ///   lower-case [0-9a-z_.-]; values printable ASCII unless the key ends in "-bin").
    public func bidiStream(
        _ method: String, metadata: Metadata = [], timeout: Duration? = nil
    ) throws(RPCStatus) -> ClientStream {
        let events = ClientStreamEvents()
        let user = Unmanaged.passRetained(events)
        let timeoutMs = timeout.map { Int64($0.milliseconds) } ?? -1
        // Binary ("-bin") values are given base64-encoded, as the server side presents them.
        let values = metadata.map { $0.key.hasSuffix("-bin") ? Base64.decode($0.value) : Array($0.value.utf8) }
        if values.contains(where: { $0 == nil }) {
            user.release()
            throw RPCStatus(.invalidArgument, "a -bin metadata value is not base64")
        }
        let pointer = withCStrings(metadata.map(\.key)) { keys in
            withCBytes(values.map { $0 ?? [] }) { valuePointers in
                var entries: [rg_metadata] = []
                for i in values.indices {
                    entries.append(rg_metadata(key: keys[i], value: valuePointers[i], value_len: values[i]?.count ?? 0))
                }
                return rg_client_stream_start(
                    handle.pointer, method, entries, entries.count, timeoutMs, clientStreamOnEvent, user.toOpaque())
            }
        }
        guard let pointer else {
            user.release()
            throw RPCStatus(.invalidArgument, "invalid metadata for \(method)")
        }
        return ClientStream(handle: BridgeHandle(pointer: pointer), events: events)
    }
}
