/// What a handler knows about its call besides the messages.
public struct CallContext: Sendable {
    /// Full method name, "/rosetta.v1.Embeddings/Embed".
    public let method: String
    /// Client metadata (e.g. "authorization").
    public let metadata: Metadata
    /// When the client stops waiting; nil without a client deadline. The transport cancels the
    /// handler's Task when it passes, so handlers need not watch it, but may use it to plan work.
    public let deadline: ContinuousClock.Instant?
    /// The client address as grpc++ reports it ("ipv4:127.0.0.1:53422"), or "in-process".
    public let peer: String
    /// The client's "x-request-id" metadata when it sent a usable one (1 to 128 printable ASCII characters),
    /// else an id made up for this call: logs carry it so that a client's report can be matched to them.
    public let requestID: String
    /// How the call arrived: "grpc", or "http" for the HTTP/JSON API (HTTPAPI), which runs the same services
    /// with a context of its own. Request logs and metrics carry it as a label.
    public let transport: String

    public init(
        method: String, metadata: Metadata = [], deadline: ContinuousClock.Instant? = nil,
        peer: String = "in-process", transport: String = "grpc"
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.transport = transport
        self.requestID = metadata["x-request-id"].flatMap(Self.usableRequestID) ?? Self.newRequestID()
    }

    static func usableRequestID(_ id: String) -> String? {
        let printable = id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        return (1...128).contains(id.utf8.count) && printable ? id : nil
    }

    /// 16 random hex digits.
    static func newRequestID() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
