/// Errors the handlers raise themselves when a request is wrong; lower modules have their own error types.
/// All of them become a gRPC status in one place: `RPCStatus(mapping:)` in ErrorMapping.swift.
public enum ServiceError: Error, Sendable, Equatable {
    /// The request bytes are not a valid message of the expected type.
    case malformedRequest(message: String, reason: String)
    /// A field is missing, contradictory or out of range.
    case invalidArgument(String)
    /// A request asks for more than a configured limit allows.
    case limitExceeded(limit: String, value: Int, maximum: Int)
    case modelNotFound(requested: String, loaded: [String])
    case noModel(modality: String)
    case unknownPrompt(name: String, model: String, known: [String])
    /// A raw input sent to a collection of raw vectors, which has no model to embed it.
    case rawVectorCollection(collection: String, space: String, modality: String)
    /// The server is still loading its models.
    case notReady
    /// The inference queue is full: `waiting` inputs wait for a forward, and `requested` more would pass the
    /// server's `limit` (--queue-max-items).
    case overloaded(waiting: Int, requested: Int, limit: Int)
    /// A capability that this server does not provide (yet).
    case unimplemented(String)
    /// The caller went away or its deadline passed before the work ran.
    case cancelled
}
