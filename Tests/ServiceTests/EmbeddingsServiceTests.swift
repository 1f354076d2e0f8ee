import Foundation
import Logging
import RPC
import RosettaAPI
import Testing
@testable import Service

@Suite struct EmbeddingsServiceTests {
    let service: EmbeddingsService
    let limits: ServiceLimits

    init() {
        var limits = ServiceLimits()
        limits.maxBatchItems = 4
        limits.maxTextCharacters = 50
        self.limits = limits
        service = EmbeddingsService(
            models: ModelSlot(ModelCatalog(models: [FakeTextModel()])), limits: limits,
            scheduler: BatchScheduler(), computeThreads: 2, logger: Logger(label: "test")
        )
    }

    func request(_ texts: [String], configure: (inout Rosetta_V1_EmbedRequest) -> Void = { _ in }) -> Rosetta_V1_EmbedRequest {
        var request = Rosetta_V1_EmbedRequest()
        request.inputs = texts.map { text in
            var input = Rosetta_V1_Input()
            input.text = text
            return input
        }
        configure(&request)
        return request
    }

    func statusCode(of body: () async throws -> Void) async -> RPCStatus.Code? {
        do {
            try await body()
            return nil
        } catch {
            return RPCStatus(mapping: error).code
        }
    }

    @Test func embedsTextsAsUnitVectorsInOrder() async throws {
        let response = try await service.embed(request(["ab", "ba", "hello world"]) { $0.requestID = "r1" })
        #expect(response.model == "fake-text" && response.space == "fake-space-1" && response.requestID == "r1")
        #expect(response.results.map(\.index) == [0, 1, 2])
        for result in response.results {
            #expect(result.status.code == 0)
            let norm = result.embedding.float32.reduce(0) { $0 + $1 * $1 }
            #expect(abs(norm - 1) < 1e-5)
            #expect(result.embedding.dimensions == 8)
        }
        // "ab" and "ba" have the same letters, so the same vector.
        #expect(response.results[0].embedding.float32 == response.results[1].embedding.float32)
        #expect(response.usage.items == 3 && response.usage.tokens == 3 + 3 + 4)
    }

    @Test func oneBadInputFailsAlone() async throws {
        var tight = ServiceLimits()
        tight.maxTextCharacters = 50
        let service = EmbeddingsService(
            models: ModelSlot(ModelCatalog(models: [FakeTextModel()])), limits: tight,
            scheduler: BatchScheduler(), computeThreads: 1, logger: Logger(label: "test")
        )
        var image = Rosetta_V1_Input()
        image.image.data = Data([0x89, 0x50])
        var embed = request(["fine", "   ", "FAIL please", String(repeating: "x", count: 51), "also fine"])
        embed.inputs += [image, Rosetta_V1_Input()]

        let response = try await service.embed(embed)
        // OK, INVALID_ARGUMENT, INTERNAL (the model's own error), RESOURCE_EXHAUSTED, OK,
        // FAILED_PRECONDITION (cannot embed image inputs), INVALID_ARGUMENT (no input set).
        #expect(response.results.map(\.status.code) == [0, 3, 13, 8, 0, 9, 3])
        #expect(response.results[3].status.message.contains("over the server's limit of 50"))
        #expect(response.results[5].status.message.contains("cannot embed image inputs"))
        #expect(response.results[5].modality == .image)
    }

    @Test func matryoshkaDimensionsKeepAPrefixAndRenormalise() async throws {
        let full = try await service.embed(request(["matryoshka"]))
        let cut = try await service.embed(request(["matryoshka"]) { $0.dimensions = 3 })
        let prefix = Array(full.results[0].embedding.float32.prefix(3))
        let norm = prefix.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(cut.results[0].embedding.float32.count == 3)
        for (a, b) in zip(cut.results[0].embedding.float32, prefix) {
            #expect(abs(a - b / norm) < 1e-6)
        }
    }

    @Test func encodingsAgreeWithFloat32() async throws {
        let float = try await service.embed(request(["encode me"])).results[0].embedding
        let int8 = try await service.embed(request(["encode me"]) { $0.encoding = .int8 }).results[0].embedding
        let binary = try await service.embed(request(["encode me"]) { $0.encoding = .binary }).results[0].embedding
        #expect(int8.float32.isEmpty && int8.int8.count == 8 && int8.scale > 0)
        for (code, value) in zip(int8.int8, float.float32) {
            #expect(abs(Float(Int8(bitPattern: code)) * int8.scale - value) <= int8.scale / 2 + 1e-6)
        }
        #expect(binary.binary.count == 1 && binary.dimensions == 8)
        for (i, value) in float.float32.enumerated() {
            let bit = (binary.binary[0] >> (7 - UInt8(i))) & 1
            #expect((bit == 1) == (value > 0))
        }
    }

    @Test func unnormalisedVectorsAreThePooledOnes() async throws {
        let response = try await service.embed(request(["aa"]) { $0.normalize = false })
        #expect(response.results[0].embedding.float32.reduce(0, +) == 2)
    }

    @Test func wholeRequestErrorsHaveClearStatuses() async {
        #expect(await statusCode { _ = try await service.embed(request([])) } == .invalidArgument)
        #expect(await statusCode { _ = try await service.embed(request(["a", "b", "c", "d", "e"])) } == .resourceExhausted)
        #expect(await statusCode { _ = try await service.embed(request(["a"]) { $0.model = "nope" }) } == .notFound)
        #expect(await statusCode { _ = try await service.embed(request(["a"]) { $0.dimensions = 9 }) } == .invalidArgument)
        #expect(await statusCode {
            _ = try await service.embed(request(["a"]) { $0.instruction = "x"; $0.promptName = "query" })
        } == .invalidArgument)
        #expect(await statusCode { _ = try await service.embed(request(["a"]) { $0.promptName = "passage" }) } == .invalidArgument)
        #expect(await statusCode { _ = try await service.embed(request(["a"]) { $0.encoding = .UNRECOGNIZED(7) }) } == .invalidArgument)
        #expect(await statusCode { _ = try await service.embed(request(["a"]) { $0.pooling = .instruction }) } == .invalidArgument)
        #expect(await statusCode {
            _ = try await service.embed(request(["a"]) { $0.pooling = .instruction; $0.promptName = "query" })
        } == .invalidArgument)
    }

    @Test func routerAnswersTypedErrorsWithTheirStatus() async throws {
        var router = Router()
        router.mapErrors(logger: Logger(label: "test"))
        service.register(in: &router)
        let unknown = try request(["a"]) { $0.model = "nope" }.serializedBytes() as [UInt8]
        let status = await router.handle(method: "/rosetta.v1.Embeddings/Embed", requests: [unknown]).status
        #expect(status.code == .notFound && status.message.contains("'nope'"))
        let malformed = await router.handle(method: "/rosetta.v1.Embeddings/Embed", requests: [[0xff, 0xff]]).status
        #expect(malformed.code == .invalidArgument)
    }

    @Test func unknownModelMessageListsTheLoadedOnes() {
        let status = RPCStatus(mapping: ServiceError.modelNotFound(requested: "nope", loaded: ["fake-text"]))
        #expect(status.code == .notFound)
        #expect(status.message == "model 'nope' is not loaded on this server (loaded: fake-text)")
    }

    @Test func infoReportsModelsAndLimits() {
        let info = service.info()
        #expect(!info.version.isEmpty)
        #expect(info.models.map(\.id) == ["fake-text"])
        #expect(info.models[0].dimensions == 8 && info.models[0].promptNames == ["query"])
        #expect(info.modalities == [.text])
        #expect(info.limits.maxBatchItems == 4)
    }
}
