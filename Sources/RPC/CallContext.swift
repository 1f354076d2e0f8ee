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

    public init(
        method: String, metadata: Metadata = [], deadline: ContinuousClock.Instant? = nil,
        peer: String = "in-process"
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
    }
}
