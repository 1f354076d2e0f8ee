import Foundation
import Index
import Logging
import NIOHTTP1
import RPC
import RosettaAPI
import Synchronization
import Testing
@testable import HTTPAPI
@testable import Service

/// The HTTP API in process (no socket): routes, bearer tokens, OpenAI's request shapes and error object, the
/// status mapping, and the Index over REST on an in-memory LocalIndex with raw-vector collections (no model is
/// loaded, so the embedding routes answer 503 once their body is valid).
@Suite struct HTTPAPITests {
    /// What the onRequestFinished hook was told, in order.
    final class Finished: Sendable {
        let calls = Mutex<[(method: String, code: RPCStatus.Code, transport: String)]>([])
    }

    let finished = Finished()

    func api(token: String? = nil, state: ServerState = .loadingModels) throws -> HTTPAPI {
        var limits = ServiceLimits()
        limits.maxBatchItems = 4
        let models = ModelSlot()
        let scheduler = BatchScheduler()
        let logger = Logger(label: "test")
        let embeddings = EmbeddingsService(models: models, limits: limits, scheduler: scheduler, computeThreads: 1, logger: logger)
        let index = IndexService(models: models, index: try LocalIndex(.init(dataDirectory: nil)), limits: limits, scheduler: scheduler, logger: logger)
        var authenticate: (@Sendable (RPC.Metadata) throws -> Void)?
        if let token {
            authenticate = { @Sendable metadata in
                guard metadata["authorization"] == "Bearer \(token)" else { throw AuthError.invalidToken }
            }
        }
        return HTTPAPI(
            embeddings: embeddings, index: index, authenticate: authenticate, state: { state },
            onRequestFinished: { [finished] context, status, _ in
                finished.calls.withLock { $0.append((context.method, status.code, context.transport)) }
            }, logger: logger)
    }

    func call(_ api: HTTPAPI, _ method: HTTPMethod, _ path: String, _ body: String = "", headers: HTTPHeaders = [:]) async -> (status: Int, json: [String: Any]) {
        let response = await api.respond(to: HTTPRequest(method: method, path: path, headers: headers, body: Data(body.utf8)))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    func error(_ json: [String: Any]) -> (message: String, type: String, code: String) {
        let error = json["error"] as? [String: Any] ?? [:]
        return (error["message"] as? String ?? "", error["type"] as? String ?? "", error["code"] as? String ?? "")
    }

    @Test func healthAnswersWhileModelsLoadAndReadinessDoesNot() async throws {
        let api = try api()
        #expect(await call(api, .GET, "/healthz").status == 200)
        let ready = await call(api, .GET, "/readyz")
        #expect(ready.status == 503)
        #expect(error(ready.json).message.contains("loading"))
        #expect(await call(try self.api(state: .serving), .GET, "/readyz").status == 200)
        #expect(await call(try self.api(state: .draining), .GET, "/readyz").status == 503)
    }

    @Test func embeddingsBeforeTheModelsAreLoadedIs503() async throws {
        let result = await call(try api(), .POST, "/v1/embeddings", #"{"input": "hello", "model": ""}"#)
        #expect(result.status == 503)
        #expect(error(result.json).type == "server_error")
    }

    @Test(arguments: [
        (#"{"input": "a""#, "not a valid JSON document"),
        ("[1, 2]", "must be a JSON object"),
        (#"{"model": "m"}"#, "'input' is missing"),
        (#"{"input": [1, 2, 3]}"#, "token ids"),
        (#"{"input": [[1, 2], [3]]}"#, "token ids"),
        (#"{"input": []}"#, "empty list"),
        (#"{"input": 3}"#, "must be a string or a list"),
        (#"{"input": "a", "encoding_format": "hex"}"#, "encoding_format 'hex'"),
        (#"{"input": "a", "dimensions": 0}"#, "dimensions must be a whole number"),
        (#"{"input": "a", "dimensions": 1.5}"#, "dimensions must be a whole number"),
        (#"{"input": "a", "pooling": "max"}"#, "pooling 'max'"),
        (#"{"input": "a", "instructions": "x"}"#, "unknown field 'instructions'"),
        (#"{"input": [{"type": "video"}]}"#, "input[0] has type 'video'"),
        (#"{"input": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}"#, "does not fetch remote URLs"),
        (#"{"input": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}"#, "base64"),
        (#"{"input": ["a", {"type": "input_audio", "input_audio": {"format": "wav"}}]}"#, "input[1] is an input_audio part without"),
    ])
    func malformedRequestsAre400WithAMessage(body: String, expected: String) async throws {
        let result = await call(try api(), .POST, "/v1/embeddings", body)
        #expect(result.status == 400)
        let (message, type, _) = error(result.json)
        #expect(type == "invalid_request_error")
        #expect(message.contains(expected), "\(message)")
    }

    @Test func contentPartsBecomeMediaInputs() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString()
        let body = try JSONValue(parsing: Data(#"""
            {"input": ["text", {"type": "text", "text": "part"},
                       {"type": "image_url", "image_url": {"url": "data:image/png;base64,\#(png)"}},
                       {"type": "input_audio", "input_audio": {"data": "\#(png)", "format": "wav"}}],
             "model": "m", "encoding_format": "base64", "dimensions": 8, "user": "u", "instruction": "find dogs", "pooling": "instruction"}
            """#.utf8))
        let request = try EmbeddingsRequest(body)
        let inputs = request.embed.inputs
        #expect(inputs.count == 4)
        #expect(inputs[0].text == "text" && inputs[1].text == "part")
        #expect(inputs[2].image.data == Data([0x89, 0x50, 0x4E, 0x47]) && inputs[2].image.mimeType == "image/png")
        #expect(inputs[3].audio.mimeType == "audio/wav")
        #expect(request.format == .base64 && request.embed.dimensions == 8 && request.embed.pooling == .instruction)
        #expect(request.embed.instruction == "find dogs" && request.embed.model == "m")
    }

    @Test func base64IsLittleEndianFloat32() {
        let bytes = EmbeddingsResponse.littleEndianBytes([1.0, -2.5])
        #expect(Array(bytes) == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0])
    }

    @Test func aFailedInputFailsTheResponseWithItsStatus() throws {
        var response = Rosetta_V1_EmbedResponse()
        var ok = Rosetta_V1_EmbedResult()
        ok.embedding.float32 = [1]
        var bad = Rosetta_V1_EmbedResult()
        bad.index = 1
        bad.status.code = RPCStatus.Code.resourceExhausted.rawValue
        bad.status.message = "text length in characters is 9, over the server's limit of 8"
        response.results = [ok, bad]
        #expect(throws: ItemFailure.self) { try EmbeddingsResponse.json(response, format: .float) }
        let failure = HTTPFailure(ItemFailure(index: 1, status: bad.status))
        #expect(failure.httpStatus == .payloadTooLarge)
        #expect(failure.status.message.hasPrefix("input[1]: text length"))
        #expect(failure.param == "input")
    }

    @Test func statusesFollowTheGRPCClassification() {
        #expect(HTTPFailure(ServiceError.invalidArgument("x")).httpStatus == .badRequest)
        #expect(HTTPFailure(AuthError.missingToken).httpStatus == .unauthorized)
        #expect(HTTPFailure(ServiceError.modelNotFound(requested: "m", loaded: [])).httpStatus == .notFound)
        #expect(HTTPFailure(ServiceError.modelNotFound(requested: "m", loaded: [])).code == "model_not_found")
        #expect(HTTPFailure(ServiceError.overloaded(waiting: 1, requested: 2, limit: 2)).httpStatus == .tooManyRequests)
        #expect(HTTPFailure(ServiceError.limitExceeded(limit: "n", value: 2, maximum: 1)).httpStatus == .payloadTooLarge)
        #expect(HTTPFailure(ServiceError.notReady).httpStatus == .serviceUnavailable)
        #expect(HTTPFailure(IndexError.collectionExists("c")).httpStatus == .conflict)
        #expect(HTTPFailure(CancellationError()).status.code == .cancelled)
        #expect(HTTPFailure(NSError(domain: "x", code: 1)).httpStatus == .internalServerError)
    }

    @Test func tokensAreCheckedBeforeRoutesButNotForHealth() async throws {
        let api = try api(token: "s3cret")
        #expect(await call(api, .GET, "/healthz").status == 200)
        #expect(await call(api, .GET, "/openapi.json").status == 200)
        let missing = await call(api, .GET, "/v1/models")
        #expect(missing.status == 401)
        #expect(error(missing.json).type == "authentication_error")
        #expect(await call(api, .GET, "/no/such/route").status == 401)
        let authorized: HTTPHeaders = ["Authorization": "Bearer s3cret"]
        #expect(await call(api, .GET, "/v1/models", headers: authorized).status == 200)
        #expect(await call(api, .GET, "/no/such/route", headers: authorized).status == 404)
        #expect(await call(api, .DELETE, "/v1/embeddings", headers: authorized).status == 405)
    }

    @Test func theConsoleIsServedWithoutATokenAndInfoWithOne() async throws {
        let api = try api(token: "s3cret")
        let page = await api.respond(to: HTTPRequest(method: .GET, path: "/"))
        #expect(page.status == .ok && page.headers.first(name: "content-type") == "text/html; charset=utf-8")
        #expect(String(decoding: page.body, as: UTF8.self).contains("<title>Rosetta console</title>"))
        let script = await api.respond(to: HTTPRequest(method: .GET, path: "/console/console.js"))
        #expect(script.status == .ok && script.headers.first(name: "content-type") == "text/javascript; charset=utf-8")
        #expect(await call(api, .GET, "/console/missing.js").status == 404)
        let authorized: HTTPHeaders = ["Authorization": "Bearer s3cret"]
        #expect(await call(api, .GET, "/console/../openapi.json", headers: authorized).status == 404)
        #expect(await call(api, .POST, "/", headers: authorized).status == 405)
        #expect(await call(api, .GET, "/v1/info").status == 401)
        let info = await call(api, .GET, "/v1/info", headers: authorized)
        #expect(info.status == 200 && (info.json["limits"] as? [String: Any])?["max_top_k"] as? Int == 1_000)
    }

    @Test func requestIDsAndTheFinishedHookCarryTheTransport() async throws {
        let api = try api()
        let response = await api.respond(to: HTTPRequest(method: .GET, path: "/healthz", headers: ["x-request-id": "abc-123"]))
        #expect(response.headers.first(name: "x-request-id") == "abc-123")
        _ = await call(api, .POST, "/v1/embeddings", "{")
        let calls = finished.calls.withLock { $0 }
        #expect(calls.map(\.method) == ["GET /healthz", "POST /v1/embeddings"])
        #expect(calls.map(\.code) == [.ok, .invalidArgument])
        #expect(calls.allSatisfy { $0.transport == "http" })
    }

    @Test func theIndexOverRESTInProto3JSON() async throws {
        let api = try api()
        let created = await call(api, .POST, "/v1/collections", #"{"name": "docs", "dimensions": 2}"#)
        #expect(created.status == 200)
        #expect(created.json["dimensions"] as? Int == 2)
        #expect(await call(api, .POST, "/v1/collections", #"{"name": "docs", "dimensions": 2}"#).status == 409)
        let upserted = await call(api, .POST, "/v1/collections/docs/upsert", #"""
            {"items": [{"id": "a", "vector": {"values": [1, 0]}, "metadata": {"kind": {"string_value": "x"}}},
                       {"id": "b", "vector": {"values": [0, 1]}}]}
            """#)
        #expect(upserted.status == 200, "\(upserted.json)")
        let search = await call(api, .POST, "/v1/collections/docs/search", #"{"vector": {"values": [1, 0.1]}, "top_k": 1}"#)
        #expect(search.status == 200)
        let hits = search.json["hits"] as? [[String: Any]] ?? []
        #expect(hits.first?["id"] as? String == "a")
        let got = await call(api, .POST, "/v1/collections/docs/get", #"{"ids": ["a", "zz"]}"#)
        #expect(got.json["missing_ids"] as? [String] == ["zz"])
        #expect(await call(api, .GET, "/v1/collections/docs").json["count"] as? Int == 2)
        #expect(await call(api, .POST, "/v1/collections/docs/delete", #"{"ids": ["a"]}"#).json["deleted"] as? Int == 1)
        let listed = await call(api, .GET, "/v1/collections")
        #expect((listed.json["collections"] as? [[String: Any]])?.count == 1)
        let contradicting = await call(api, .POST, "/v1/collections/docs/get", #"{"collection": "other", "ids": ["a"]}"#)
        #expect(contradicting.status == 400)
        let unknownField = await call(api, .POST, "/v1/collections/docs/search", #"{"vectr": {}}"#)
        #expect(unknownField.status == 400)
        #expect(error(unknownField.json).message.contains("unknown field 'vectr'"))
        #expect(await call(api, .DELETE, "/v1/collections/docs").status == 200)
        #expect(await call(api, .GET, "/v1/collections/docs").status == 404)
        #expect(await call(api, .POST, "/v1/collections/docs/search", #"{"vector": {"values": [1, 0]}}"#).status == 404)
    }
}
