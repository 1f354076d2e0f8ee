/// How the server listens and what it accepts. Zero-cost defaults: grpc++'s own.
public struct ServerConfiguration: Sendable {
    /// "host:port" addresses; port 0 picks a free port (see `Server.start()`).
    public var listenAddresses: [String]
    /// Largest request message accepted; bigger ones fail with RESOURCE_EXHAUSTED. nil: 4 MiB.
    public var maxReceiveMessageBytes: Int?
    /// Largest response message sent. nil: unlimited.
    public var maxSendMessageBytes: Int?
    /// Concurrent calls per HTTP/2 connection. nil: grpc default.
    public var maxConcurrentStreams: Int?
    public var keepalive: Keepalive?
    /// nil: plaintext.
    public var tls: TLSConfiguration?
    /// The .proto files reflection describes the services and messages from: a serialized
    /// google.protobuf.FileDescriptorSet, each file after its imports (`protoc --include_imports
    /// --descriptor_set_out`). `Server.start()` registers it process-wide, which must happen before the
    /// process's first server starts (`rg_register_descriptors`); a set already registered is accepted
    /// again. Empty: reflection lists the services but cannot describe them.
    public var fileDescriptorSet: [UInt8]

    public init(
        listenAddresses: [String] = ["127.0.0.1:50051"], maxReceiveMessageBytes: Int? = nil,
        maxSendMessageBytes: Int? = nil, maxConcurrentStreams: Int? = nil, keepalive: Keepalive? = nil,
        tls: TLSConfiguration? = nil, fileDescriptorSet: [UInt8] = []
    ) {
        self.listenAddresses = listenAddresses
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.maxSendMessageBytes = maxSendMessageBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.keepalive = keepalive
        self.tls = tls
        self.fileDescriptorSet = fileDescriptorSet
    }

    public struct Keepalive: Sendable, Equatable {
        /// The server pings a connection idle for this long.
        public var time: Duration
        /// and closes it if the ping is not answered within this.
        public var timeout: Duration
        /// Client pings are accepted this often (also without calls); nil: grpc default (5 min).
        public var minClientPingInterval: Duration?

        public init(time: Duration, timeout: Duration, minClientPingInterval: Duration? = nil) {
            self.time = time
            self.timeout = timeout
            self.minClientPingInterval = minClientPingInterval
        }
    }
}

/// Server TLS from PEM files; with `clientCAPath`, client certificates are verified against it
/// (mTLS), and required when `requireClientCertificate`.
public struct TLSConfiguration: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String
    public var clientCAPath: String?
    public var requireClientCertificate: Bool

    public init(
        certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil,
        requireClientCertificate: Bool = false
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.requireClientCertificate = requireClientCertificate
    }
}

extension Duration {
    /// Whole milliseconds, clamped to Int32 (grpc channel arguments are ints).
    var clampedMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow { return seconds < 0 ? 0 : Int32.max }
        let total = ms.partialValue + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, total))
    }

    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow { return seconds < 0 ? 0 : Int64.max }
        return max(0, ms.partialValue + attoseconds / 1_000_000_000_000_000)
    }
}
