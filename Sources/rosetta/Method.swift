import RosettaAPI
import SwiftProtobuf

/// A unary rosetta.v1 method: its gRPC path and the messages it takes and returns, so that
/// `connection.call(.get, request)` infers the response type and refuses a request of the wrong type.
struct Method<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable {
    /// "/<package>.<Service>/<Method>", as in Protos/rosetta/v1.
    let path: String
}

// Each unary method of Protos/rosetta/v1 once (the streaming EmbedStream and UpsertStream are not called by the CLI).
// Static members of a generic type live in a constrained extension each, so that `.embed` resolves from the context.

extension Method where Request == Rosetta_V1_EmbedRequest, Response == Rosetta_V1_EmbedResponse {
    static var embed: Self { Self(path: "/rosetta.v1.Embeddings/Embed") }
}

extension Method where Request == Rosetta_V1_InfoRequest, Response == Rosetta_V1_InfoResponse {
    static var info: Self { Self(path: "/rosetta.v1.Embeddings/Info") }
}

extension Method where Request == Rosetta_V1_CreateCollectionRequest, Response == Rosetta_V1_Collection {
    static var createCollection: Self { Self(path: "/rosetta.v1.Index/CreateCollection") }
}

extension Method where Request == Rosetta_V1_DeleteCollectionRequest, Response == Rosetta_V1_DeleteCollectionResponse {
    static var deleteCollection: Self { Self(path: "/rosetta.v1.Index/DeleteCollection") }
}

extension Method where Request == Rosetta_V1_ListCollectionsRequest, Response == Rosetta_V1_ListCollectionsResponse {
    static var listCollections: Self { Self(path: "/rosetta.v1.Index/ListCollections") }
}

extension Method where Request == Rosetta_V1_UpsertRequest, Response == Rosetta_V1_UpsertResponse {
    static var upsert: Self { Self(path: "/rosetta.v1.Index/Upsert") }
}

extension Method where Request == Rosetta_V1_DeleteRequest, Response == Rosetta_V1_DeleteResponse {
    static var delete: Self { Self(path: "/rosetta.v1.Index/Delete") }
}

extension Method where Request == Rosetta_V1_GetRequest, Response == Rosetta_V1_GetResponse {
    static var get: Self { Self(path: "/rosetta.v1.Index/Get") }
}

extension Method where Request == Rosetta_V1_SearchRequest, Response == Rosetta_V1_SearchResponse {
    static var search: Self { Self(path: "/rosetta.v1.Index/Search") }
}
