import Foundation
import Index
import RosettaAPI
import Service
import SwiftProtobuf

/// The Index over REST: each route decodes its RPC's request message from the body in the proto3 JSON mapping
/// (SwiftProtobuf's codec: lowerCamelCase or proto field names, 64-bit integers as numbers or strings, bytes as
/// base64), runs the same `IndexService` method as gRPC, and answers with the response message in proto3 JSON
/// (proto field names, 64-bit integers as numbers; fields at their default value are left out).
struct IndexRoutes {
    let index: IndexService

    static let encoding: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintInt64sAsNumbers = true
        return options
    }()

    func handle(_ route: Route, collection: String?, body: Data) async throws -> HTTPResponse {
        let name = collection ?? ""
        switch route {
        case .createCollection:
            return try Self.json(await index.createCollection(Self.decode(body)))
        case .listCollections:
            return try Self.json(await index.listCollections(Rosetta_V1_ListCollectionsRequest()))
        case .getCollection:
            let all = try await index.listCollections(Rosetta_V1_ListCollectionsRequest())
            guard let found = all.collections.first(where: { $0.name == name }) else {
                throw IndexError.collectionNotFound(name)
            }
            return try Self.json(found)
        case .deleteCollection:
            var request = Rosetta_V1_DeleteCollectionRequest()
            request.name = name
            return try Self.json(await index.deleteCollection(request))
        case .upsert:
            var request: Rosetta_V1_UpsertRequest = try Self.decode(body)
            request.collection = try Self.collection(name, inBody: request.collection)
            return try Self.json(await index.upsert(request))
        case .get:
            var request: Rosetta_V1_GetRequest = try Self.decode(body)
            request.collection = try Self.collection(name, inBody: request.collection)
            return try Self.json(await index.get(request))
        case .delete:
            var request: Rosetta_V1_DeleteRequest = try Self.decode(body)
            request.collection = try Self.collection(name, inBody: request.collection)
            return try Self.json(await index.delete(request))
        case .search:
            var request: Rosetta_V1_SearchRequest = try Self.decode(body)
            request.collection = try Self.collection(name, inBody: request.collection)
            return try Self.json(await index.search(request))
        case .health, .ready, .openAPI, .models, .model, .embeddings:
            throw RouteError(httpStatus: .notFound, message: "\(route.rawValue) is not an Index route")
        }
    }

    /// The path names the collection; a body may repeat it, not contradict it.
    private static func collection(_ path: String, inBody body: String) throws(ServiceError) -> String {
        guard body.isEmpty || body == path else {
            throw .invalidArgument("the body names collection '\(body)' but the path '\(path)': leave it out of the body")
        }
        return path
    }

    static func decode<M: SwiftProtobuf.Message>(_ body: Data) throws(ServiceError) -> M {
        // An empty body is the empty message (every field at its default), as in gRPC.
        guard !body.isEmpty else { return M() }
        do {
            return try M(jsonUTF8Data: body)
        } catch {
            throw .malformedRequest(message: M.protoMessageName + " (proto3 JSON)", reason: jsonFailure(error))
        }
    }

    static func json(_ message: some SwiftProtobuf.Message) throws -> HTTPResponse {
        let bytes: [UInt8] = try message.jsonUTF8Bytes(options: encoding)
        return HTTPResponse(status: .ok, json: bytes)
    }

    /// Why the body is not the message, in words a client can act on (SwiftProtobuf's errors are enum cases).
    static func jsonFailure(_ error: any Error) -> String {
        switch error {
        case JSONDecodingError.unknownField(let name):
            return "unknown field '\(name)'"
        case JSONDecodingError.unrecognizedEnumValue:
            return "an enum field holds a name or number the message does not define"
        case JSONDecodingError.malformedNumber, JSONDecodingError.numberRange, JSONDecodingError.leadingZero:
            return "a number is malformed or out of its field's range"
        case JSONDecodingError.malformedString, JSONDecodingError.invalidUTF8:
            return "a string is malformed (bad escape or not UTF-8), or a bytes field is not base64"
        case JSONDecodingError.malformedBool:
            return "a boolean field holds something other than true or false"
        case JSONDecodingError.truncated:
            return "the JSON ends early"
        case JSONDecodingError.trailingGarbage:
            return "text follows the end of the JSON object"
        case JSONDecodingError.conflictingOneOf:
            return "two fields of one oneof are set; set one"
        case JSONDecodingError.messageDepthLimit:
            return "objects are nested too deep"
        case JSONDecodingError.illegalNull:
            return "null where a value is needed"
        case JSONDecodingError.malformedMap, JSONDecodingError.unquotedMapKey:
            return "a map field is malformed"
        case JSONDecodingError.schemaMismatch:
            return "a field holds a value of the wrong JSON type"
        default:
            return "the body is not a JSON object of this message (\(error))"
        }
    }
}
