import Foundation
import Index
import Logging
import RPC
import RosettaAPI
import SwiftProtobuf
import Testing
@testable import Service

/// The Index handlers over an in-memory `LocalIndex` and the fake 8-d text model (space "fake-space-1"):
/// validation, per-item statuses, space and dimension guards, limits, and the router's status mapping.
@Suite struct IndexServiceTests {
    let service: IndexService

    init() throws {
        var limits = ServiceLimits()
        limits.maxBatchItems = 8
        limits.maxTopK = 20
        limits.maxMetadataBytes = 64
        var configuration = LocalIndex.Configuration(dataDirectory: nil)
        configuration.maxCollections = 4
        service = IndexService(
            models: ModelSlot(ModelCatalog(models: [FakeTextModel()])), index: try LocalIndex(configuration),
            limits: limits, scheduler: BatchScheduler(), logger: Logger(label: "test"))
    }

    func code(of body: () async throws -> Void) async -> RPCStatus? {
        do {
            try await body()
            return nil
        } catch {
            return RPCStatus(mapping: error)
        }
    }

    func create(_ name: String, model: String = "", dimensions: UInt32 = 0, storage: Rosetta_V1_Storage = .float32) async throws -> Rosetta_V1_Collection {
        var request = Rosetta_V1_CreateCollectionRequest()
        request.name = name
        request.model = model
        request.dimensions = dimensions
        request.storage = storage
        return try await service.createCollection(request)
    }

    func textItem(_ id: String, _ text: String, metadata: [String: Rosetta_V1_MetadataValue] = [:]) -> Rosetta_V1_Item {
        var item = Rosetta_V1_Item()
        item.id = id
        item.input.text = text
        item.metadata = metadata
        return item
    }

    func vectorItem(_ id: String, _ values: [Float], space: String = "") -> Rosetta_V1_Item {
        var item = Rosetta_V1_Item()
        item.id = id
        item.vector.values = values
        item.vectorSpace = space
        return item
    }

    func upsert(_ collection: String, _ items: [Rosetta_V1_Item]) async throws -> [Int32] {
        var request = Rosetta_V1_UpsertRequest()
        request.collection = collection
        request.items = items
        return try await service.upsert(request).results.map(\.status.code)
    }

    func searchText(_ collection: String, _ text: String, topK: UInt32 = 3) async throws -> [Rosetta_V1_SearchHit] {
        var request = Rosetta_V1_SearchRequest()
        request.collection = collection
        request.input.text = text
        request.topK = topK
        return try await service.search(request).hits
    }

    @Test func createValidatesModelNameAndDimensions() async throws {
        let made = try await create("texts", model: "fake-text")
        #expect(made.dimensions == 8 && made.space == "fake-space-1" && made.model == "fake-text" && made.createdUnixMs > 0)
        #expect(await code { _ = try await create("texts", model: "fake-text") }?.code == .alreadyExists)
        #expect(await code { _ = try await create("other", model: "nope") }?.code == .notFound)
        #expect(await code { _ = try await create("bad name", model: "fake-text") }?.code == .invalidArgument)
        #expect(await code { _ = try await create("raw") }?.code == .invalidArgument)
        #expect(await code { _ = try await create("wide", model: "fake-text", dimensions: 9) }?.code == .invalidArgument)
        let raw = try await create("raw", dimensions: 3)
        #expect(raw.space == "raw/3" && raw.model.isEmpty)
        _ = try await create("third", dimensions: 3)
        _ = try await create("fourth", dimensions: 3)
        let full = await code { _ = try await create("fifth", dimensions: 3) }
        #expect(full?.code == .resourceExhausted && full?.message.contains("4 collections") == true)
        let list = try await service.listCollections(Rosetta_V1_ListCollectionsRequest())
        #expect(list.collections.map(\.name) == ["fourth", "raw", "texts", "third"])
    }

    @Test func upsertTextThenSearchFindsTheClosest() async throws {
        _ = try await create("texts", model: "fake-text")
        let codes = try await upsert("texts", [
            textItem("a", "aaaa bbb", metadata: ["kind": .with { $0.stringValue = "x" }]),
            textItem("b", "zzzz yyy"),
            textItem("c", "FAIL this one"),
            textItem("d", "   "),
        ])
        #expect(codes == [0, 0, 13, 3])
        let hits = try await searchText("texts", "bbb aaaa")
        #expect(hits.first?.id == "a" && abs(hits[0].score - 1) < 1e-5 && hits[0].modality == .text)
        #expect(hits[0].metadata["kind"]?.stringValue == "x")
        // Same id replaces.
        #expect(try await upsert("texts", [textItem("a", "zzzz yyy")]) == [0])
        let get = try await service.get(.with { $0.collection = "texts"; $0.ids = ["a", "b", "nope"]; $0.includeVectors = true })
        #expect(get.items.map(\.id) == ["a", "b"] && get.missingIds == ["nope"])
        #expect(get.items[0].vector.values == get.items[1].vector.values)
    }

    @Test func matryoshkaCollectionsTruncateAndRenormalise() async throws {
        _ = try await create("short", model: "fake-text", dimensions: 4)
        #expect(try await upsert("short", [textItem("a", "abcd"), vectorItem("v8", [1, 1, 0, 0, 5, 5, 5, 5]), vectorItem("v4", [0, 0, 3, 4])]) == [0, 0, 0])
        let get = try await service.get(.with { $0.collection = "short"; $0.ids = ["a", "v8", "v4"]; $0.includeVectors = true })
        for item in get.items {
            #expect(item.vector.values.count == 4)
            #expect(abs(item.vector.values.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        #expect(try await searchText("short", "abcd").first?.id == "a")
    }

    @Test func spacesAndDimensionsAreGuarded() async throws {
        _ = try await create("texts", model: "fake-text")
        _ = try await create("raw", dimensions: 8)
        // Per item: a vector of another space, a vector of the wrong length, text into a raw collection.
        let codes = try await upsert("raw", [
            vectorItem("ok", [1, 0, 0, 0, 0, 0, 0, 0]),
            vectorItem("other-space", [1, 0, 0, 0, 0, 0, 0, 0], space: "fake-space-1"),
            vectorItem("short", [1, 0, 0]),
            textItem("text", "hello"),
        ])
        #expect(codes == [0, 9, 3, 9])
        #expect(try await upsert("texts", [vectorItem("tagged", [1, 0, 0, 0, 0, 0, 0, 0], space: "fake-space-1")]) == [0])
        // Whole-call refusals for searches, with both spaces named.
        var query = Rosetta_V1_SearchRequest()
        query.collection = "texts"
        query.vector.values = [1, 0, 0, 0, 0, 0, 0, 0]
        query.vectorSpace = "raw/8"
        let mismatch = await code { _ = try await service.search(query) }
        #expect(mismatch?.code == .failedPrecondition)
        #expect(mismatch?.message.contains("fake-space-1") == true && mismatch?.message.contains("raw/8") == true)
        let textOnRaw = await code { _ = try await searchText("raw", "hello") }
        #expect(textOnRaw?.code == .failedPrecondition && textOnRaw?.message.contains("raw vectors") == true)
        query.vectorSpace = ""
        query.vector.values = [1, 0]
        #expect(await code { _ = try await service.search(query) }?.code == .invalidArgument)
    }

    @Test func limitsAreEnforced() async throws {
        _ = try await create("raw", dimensions: 2)
        let many = (0..<9).map { vectorItem("\($0)", [1, 0]) }
        #expect(await code { _ = try await upsert("raw", many) }?.code == .resourceExhausted)
        var big = vectorItem("big", [1, 0])
        big.metadata = ["k": .with { $0.stringValue = String(repeating: "x", count: 100) }]
        #expect(try await upsert("raw", [big, vectorItem("small", [0, 1])]) == [8, 0])
        var search = Rosetta_V1_SearchRequest()
        search.collection = "raw"
        search.vector.values = [1, 0]
        search.topK = 21
        #expect(await code { _ = try await service.search(search) }?.code == .resourceExhausted)
        search.topK = 0
        #expect(try await service.search(search).hits.map(\.id) == ["small"])
        #expect(await code { _ = try await upsert("missing", [vectorItem("a", [1, 0])]) }?.code == .notFound)
        #expect(await code { _ = try await upsert("raw", []) }?.code == .invalidArgument)
    }

    @Test func deleteByIdsOrFilterAndSearchFilters() async throws {
        _ = try await create("raw", dimensions: 2)
        let items = (0..<6).map { i in
            var item = vectorItem("\(i)", [1, Float(i) / 10])
            item.metadata = ["n": .with { $0.numberValue = Double(i) }, "even": .with { $0.stringValue = i % 2 == 0 ? "y" : "n" }]
            return item
        }
        _ = try await upsert("raw", items)
        var search = Rosetta_V1_SearchRequest()
        search.collection = "raw"
        search.vector.values = [1, 0]
        search.filter.all.filters = [
            .with { $0.condition = .with { $0.key = "even"; $0.equals = .with { $0.stringValue = "y" } } },
            .with { $0.condition = .with { $0.key = "n"; $0.range = .with { $0.gte = 2 } } },
        ]
        #expect(try await service.search(search).hits.map(\.id) == ["2", "4"])
        search.filter = .with { $0.condition = .with { $0.key = "n" } }
        #expect(await code { _ = try await service.search(search) }?.code == .invalidArgument)

        var both = Rosetta_V1_DeleteRequest()
        both.collection = "raw"
        both.ids = ["1"]
        both.filter = .with { $0.condition = .with { $0.key = "even"; $0.equals = .with { $0.stringValue = "y" } } }
        #expect(await code { _ = try await service.delete(both) }?.code == .invalidArgument)
        #expect(try await service.delete(.with { $0.collection = "raw"; $0.ids = ["1", "1", "x"] }).deleted == 1)
        both.ids = []
        #expect(try await service.delete(both).deleted == 3)
        #expect(try await service.listCollections(.init()).collections[0].count == 2)
    }

    /// A Delete filter that constrains nothing (it matches every item by its structure) is refused like a
    /// Delete with neither ids nor filter; once, `all{}` deleted every item.
    @Test func deleteRefusesAFilterThatConstrainsNothing() async throws {
        _ = try await create("raw", dimensions: 2)
        _ = try await upsert("raw", (0..<5).map { i in
            var item = vectorItem("\(i)", [1, Float(i)])
            item.metadata = ["n": .with { $0.numberValue = Double(i) }]
            return item
        })
        let condition = Rosetta_V1_Filter.with { $0.condition = .with { $0.key = "n"; $0.range = .with { $0.gte = 3 } } }
        let emptyAll = Rosetta_V1_Filter.with { $0.all = .init() }
        let emptyAny = Rosetta_V1_Filter.with { $0.any = .init() }
        let matchEverything: [Rosetta_V1_Filter] = [
            emptyAll,
            .with { $0.all.filters = [emptyAll, .with { $0.all.filters = [emptyAll] }] },
            .with { $0.any.filters = [condition, emptyAll] },
            .with { $0.not = emptyAny },
            .with { $0.not = .with { $0.all.filters = [condition, emptyAny] } },
            .with { $0.not = .with { $0.not = emptyAll } },
        ]
        let neither = await code { _ = try await service.delete(.with { $0.collection = "raw" }) }
        #expect(neither?.code == .invalidArgument && neither?.message.contains("to delete everything, delete the collection") == true)
        for filter in matchEverything {
            let status = await code { _ = try await service.delete(.with { $0.collection = "raw"; $0.filter = filter }) }
            #expect(status?.code == .invalidArgument, "\(filter)")
            #expect(status?.message.contains("constrains nothing") == true && status?.message.contains("to delete everything, delete the collection") == true)
        }
        #expect(try await service.listCollections(.init()).collections[0].count == 5)
        // Filters whose structure matches nothing, or that condition on a key, are taken at their word.
        #expect(try await service.delete(.with { $0.collection = "raw"; $0.filter = emptyAny }).deleted == 0)
        #expect(try await service.delete(.with { $0.collection = "raw"; $0.filter = .with { $0.all.filters = [emptyAll, condition] } }).deleted == 2)
        let everyN = Rosetta_V1_Filter.with { $0.any.filters = [condition, .with { $0.not = condition }] }
        #expect(try await service.delete(.with { $0.collection = "raw"; $0.filter = everyN }).deleted == 3)
    }

    /// A full disk is not a transient condition to retry blindly: RESOURCE_EXHAUSTED (once UNAVAILABLE), saying
    /// the disk is full and nothing was applied. Other storage failures stay UNAVAILABLE.
    @Test func outOfSpaceIsResourceExhausted() {
        let full = RPCStatus(mapping: IndexError.outOfSpace(operation: "write", path: "/data/index.wal", reason: "No space left on device"))
        #expect(full.code == .resourceExhausted)
        #expect(full.message.contains("the disk is full") && full.message.contains("nothing of it was stored"))
        #expect(full.message.contains("could not write /data/index.wal: No space left on device"))
        let other = RPCStatus(mapping: IndexError.storage(operation: "fsync", path: "/data/index.wal", reason: "Input/output error"))
        #expect(other.code == .unavailable && other.message.contains("the write was not applied"))
    }

    @Test func routerMapsStatusesAndStreamsOneResponsePerRequest() async throws {
        var router = Router()
        router.mapErrors(logger: Logger(label: "test"))
        service.register(in: &router)
        _ = try await create("raw", dimensions: 2)
        let requests = try (0..<3).map { i in
            try Rosetta_V1_UpsertRequest.with {
                $0.collection = "raw"
                $0.items = [vectorItem("s\(i)", [1, Float(i)])]
                $0.requestID = "r\(i)"
            }.serializedBytes() as [UInt8]
        }
        let stream = await router.handle(method: "/rosetta.v1.Index/UpsertStream", requests: requests)
        #expect(stream.status.code == .ok)
        let responses = try stream.responses.map { try Rosetta_V1_UpsertResponse(serializedBytes: $0) }
        #expect(responses.map(\.requestID) == ["r0", "r1", "r2"])
        let missing = try Rosetta_V1_SearchRequest.with { $0.collection = "nope"; $0.vector.values = [1, 0] }.serializedBytes() as [UInt8]
        let status = await router.handle(method: "/rosetta.v1.Index/Search", requests: [missing]).status
        #expect(status.code == .notFound && status.message.contains("'nope'"))
    }
}
