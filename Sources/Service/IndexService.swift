import Domain
import Foundation
import Index
import Logging
import RPC
import RosettaAPI
import SwiftProtobuf
import Spaces

/// rosetta.v1.Index: collections of items (text, images, audio or raw vectors) and search across them.
///
/// The handlers validate, embed raw inputs with the collection's model (on the same `BatchScheduler` and
/// `EmbeddingSpace` seam as Embed), shape vectors for the collection (`CollectionSpec.prepare`: dimension and
/// space checks, Matryoshka truncation, normalisation) and hand them to a `VectorIndex`. An upsert answers
/// only after the index has made its items durable; per-item problems get per-item statuses.
public struct IndexService: Sendable {
    public static let serviceName = "rosetta.v1.Index"

    let models: ModelSlot
    let index: any VectorIndex
    let limits: ServiceLimits
    let scheduler: BatchScheduler
    let logger: Logger

    /// Hits returned when a search leaves `top_k` at 0.
    static let defaultTopK = 10
    /// Largest dimension a raw-vector collection may declare.
    static let maxDimensions = 65_536

    public init(models: ModelSlot, index: any VectorIndex, limits: ServiceLimits, scheduler: BatchScheduler, logger: Logger) {
        self.models = models
        self.index = index
        self.limits = limits
        self.scheduler = scheduler
        self.logger = logger
    }

    public func register(in router: inout Router) {
        unary("CreateCollection", in: &router) { try await createCollection($0) }
        unary("DeleteCollection", in: &router) { try await deleteCollection($0) }
        unary("ListCollections", in: &router) { try await listCollections($0) }
        unary("Upsert", in: &router) { try await upsert($0) }
        unary("Delete", in: &router) { try await delete($0) }
        unary("Get", in: &router) { try await get($0) }
        unary("Search", in: &router) { try await search($0) }
        router.bidiStream("/\(Self.serviceName)/UpsertStream") { requests, responses, _ in
            for try await bytes in requests {
                let request: Rosetta_V1_UpsertRequest = try decode(bytes)
                try await responses.write(encode(upsert(request)))
            }
        }
    }

    private func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, in router: inout Router, _ body: @escaping @Sendable (Request) async throws -> Response
    ) {
        router.unary("/\(Self.serviceName)/\(method)") { bytes, _ in
            try encode(await body(decode(bytes)))
        }
    }

    // MARK: Collections

    public func createCollection(_ request: Rosetta_V1_CreateCollectionRequest) async throws -> Rosetta_V1_Collection {
        if let problem = CollectionSpec.problem(withName: request.name) {
            throw IndexError.invalidCollectionName(request.name, reason: problem)
        }
        let metric = try Metric(request.metric)
        let storage = try Storage(request.storage)
        let requested = Int(request.dimensions)
        var spec: CollectionSpec
        if request.model.isEmpty {
            guard requested > 0 else {
                throw ServiceError.invalidArgument(
                    "give a model (its vectors and its space) or, for raw vectors, dimensions")
            }
            guard requested <= Self.maxDimensions else {
                throw ServiceError.invalidArgument("dimensions is \(requested), over the largest allowed, \(Self.maxDimensions)")
            }
            spec = CollectionSpec(
                name: request.name, model: "", dimensions: requested, modelDimensions: 0, metric: metric,
                storage: storage, space: CollectionSpec.rawSpace(dimensions: requested), createdUnixMs: 0,
                keepPreviews: request.keepPreviews)
        } else {
            let model = try models.loaded().model(request.model).description
            guard requested <= model.dimensions else {
                throw ServiceError.invalidArgument(
                    "dimensions is \(requested), but model '\(model.id)' has \(model.dimensions) (a collection may keep fewer, Matryoshka-truncated, not more)")
            }
            spec = CollectionSpec(
                name: request.name, model: model.id, dimensions: requested == 0 ? model.dimensions : requested,
                modelDimensions: model.dimensions, metric: metric, storage: storage, space: model.space, createdUnixMs: 0,
                keepPreviews: request.keepPreviews)
        }
        spec.createdUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        let info = try await index.createCollection(spec)
        logger.info("collection created", metadata: [
            "collection": "\(spec.name)", "model": "\(spec.model)", "dimensions": "\(spec.dimensions)",
            "storage": "\(spec.storage)", "space": "\(spec.space)", "keep_previews": "\(spec.keepPreviews)",
        ])
        return Rosetta_V1_Collection(info)
    }

    public func deleteCollection(_ request: Rosetta_V1_DeleteCollectionRequest) async throws -> Rosetta_V1_DeleteCollectionResponse {
        try await index.deleteCollection(request.name)
        logger.info("collection deleted", metadata: ["collection": "\(request.name)"])
        return Rosetta_V1_DeleteCollectionResponse()
    }

    public func listCollections(_: Rosetta_V1_ListCollectionsRequest) async throws -> Rosetta_V1_ListCollectionsResponse {
        var response = Rosetta_V1_ListCollectionsResponse()
        response.collections = try await index.listCollections().map(Rosetta_V1_Collection.init)
        return response
    }

    // MARK: Delete and Get

    public func delete(_ request: Rosetta_V1_DeleteRequest) async throws -> Rosetta_V1_DeleteResponse {
        var response = Rosetta_V1_DeleteResponse()
        switch (request.ids.isEmpty, request.hasFilter) {
        case (false, false):
            try checkIDCount(request.ids.count)
            response.deleted = UInt64(try await index.delete(ids: request.ids, from: request.collection))
        case (true, true):
            let filter = try Filter(request.filter)
            guard !filter.matchesEverything else { throw ServiceError.invalidArgument(Self.filterMatchesEverything) }
            response.deleted = UInt64(try await index.delete(matching: filter, from: request.collection))
        case (false, true):
            throw ServiceError.invalidArgument("give ids or a filter to delete by, not both")
        case (true, false):
            throw ServiceError.invalidArgument("give the ids to delete, or a filter (to delete everything, delete the collection)")
        }
        return response
    }

    /// Why Delete refuses a filter with no condition (`Filter.matchesEverything`: all{}, not{any{}}, ...); the
    /// Python client refuses it before sending, in the same words.
    static let filterMatchesEverything =
        "the filter constrains nothing: it matches every item whatever its metadata (an empty 'all', an 'any' holding one, 'not' of an empty 'any'); give the ids to delete, or a filter with a condition (to delete everything, delete the collection)"

    public func get(_ request: Rosetta_V1_GetRequest) async throws -> Rosetta_V1_GetResponse {
        try checkIDCount(request.ids.count)
        if request.includePreviews { try checkPreviewCount(request.ids.count, of: "the number of ids") }
        let (items, missing) = try await index.get(
            ids: request.ids, from: request.collection, includeVectors: request.includeVectors, includePreviews: request.includePreviews)
        var response = Rosetta_V1_GetResponse()
        response.items = items.map(Rosetta_V1_StoredItem.init)
        response.missingIds = missing
        return response
    }

    /// Get and Delete take at most `maxTopK` ids: as many as a search may return.
    private func checkIDCount(_ count: Int) throws(ServiceError) {
        guard count <= limits.maxTopK else {
            throw .limitExceeded(limit: "the number of ids", value: count, maximum: limits.maxTopK)
        }
    }

    /// With include_previews a response may carry `maxPreviewItems` previews (ServiceLimits).
    func checkPreviewCount(_ count: Int, of what: String) throws(ServiceError) {
        guard count <= limits.maxPreviewItems else {
            throw .invalidArgument(
                "\(what) is \(count), but with include_previews at most \(limits.maxPreviewItems) (previews of up to \(Preview.maxBytes) bytes each must fit half of the \(limits.maxMessageBytes)-byte message limit): ask for fewer, or for the previews of the first ones with Get")
        }
    }

    // MARK: Embedding for a collection

    /// The loaded model that embeds raw inputs for `spec`, checked to still produce vectors of its space.
    func model(for spec: CollectionSpec, modality: Rosetta_V1_Modality) throws -> any EmbeddingSpace {
        guard !spec.holdsRawVectors else {
            throw ServiceError.rawVectorCollection(collection: spec.name, space: spec.space, modality: "\(modality)")
        }
        let model = try models.loaded().model(spec.model)
        guard model.description.space == spec.space else {
            throw IndexError.spaceMismatch(collection: spec.name, collectionSpace: spec.space, otherSpace: model.description.space)
        }
        return model
    }

    /// Embedding options from the instruction, prompt and pooling fields an Upsert or Search carries (the
    /// same rules as Embed's).
    static func options(instruction: String, promptName: String, pooling: Rosetta_V1_Pooling, model: SpaceDescription) throws -> EmbeddingOptions {
        var request = Rosetta_V1_EmbedRequest()
        request.instruction = instruction
        request.promptName = promptName
        request.pooling = pooling
        return try EmbeddingOptions(request, model: model)
    }
}
