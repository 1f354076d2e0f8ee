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
        case .upsert: return try await Self.run(index.upsert, body: body, collection: name)
        case .get: return try await Self.run(index.get, body: body, collection: name)
        case .delete: return try await Self.run(index.delete, body: body, collection: name)
        case .search: return try await Self.run(index.search, body: body, collection: name)
        case .health, .ready, .openAPI, .models, .model, .embeddings, .info, .console, .consoleFile:
            throw RouteError(httpStatus: .notFound, message: "\(route.rawValue) is not an Index route")
        }
    }

    /// Runs an RPC of one collection: the path names it, and the body may repeat it, not contradict it.
    private static func run<Request: CollectionRequest, Response: SwiftProtobuf.Message>(
        _ method: (Request) async throws -> Response, body: Data, collection: String
    ) async throws -> HTTPResponse {
        var request: Request = try decode(body)
        guard request.collection.isEmpty || request.collection == collection else {
            throw ServiceError.invalidArgument(
                "the body names collection '\(request.collection)' but the path '\(collection)': leave it out of the body")
        }
        request.collection = collection
        return try json(await method(request))
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

/// The Index requests that name one collection (their `collection` field).
protocol CollectionRequest: SwiftProtobuf.Message {
    var collection: String { get set }
}

extension Rosetta_V1_UpsertRequest: CollectionRequest {}
extension Rosetta_V1_GetRequest: CollectionRequest {}
extension Rosetta_V1_DeleteRequest: CollectionRequest {}
extension Rosetta_V1_SearchRequest: CollectionRequest {}
