import Index
import RosettaAPI
import Domain
import Spaces

extension IndexService {
    /// Search: the query vector (given, embedded from the raw input with the collection's model, or a weighted
    /// combination of both) is shaped like the stored vectors (Matryoshka truncation, normalisation); the index
    /// filters, scores and ranks.
    public func search(_ request: Rosetta_V1_SearchRequest) async throws -> Rosetta_V1_SearchResponse {
        let topK = request.topK == 0 ? Self.defaultTopK : Int(request.topK)
        guard topK <= limits.maxTopK else {
            throw ServiceError.limitExceeded(limit: "top_k", value: topK, maximum: limits.maxTopK)
        }
        if request.includePreviews { try checkPreviewCount(topK, of: "top_k") }
        let filter = request.hasFilter ? try Filter(request.filter) : nil
        let modalities = Set(try request.modalities.map(Modality.init))
        let spec = try await index.collection(request.collection).spec

        var response = Rosetta_V1_SearchResponse()
        response.usage.items = 1
        let vector: [Float]
        switch request.query {
        case .vector(let given):
            vector = try spec.prepare(given.values, space: request.vectorSpace)
        case .input(let input):
            let modelInput = try SpaceInput(input, position: 0, limits: limits)
            let model = try model(for: spec, modality: Rosetta_V1_Modality(modelInput.modality))
            let description = model.description
            guard description.modalities.contains(modelInput.modality) else {
                throw SpaceError.modalityNotSupported(model: description.id, modality: "\(modelInput.modality)")
            }
            let options = try Self.options(instruction: request.instruction, promptName: request.promptName,
                                           pooling: request.pooling, model: description)
            let run = try await scheduler.embed([modelInput], model: model, options: options)
            guard let outcome = run.outcomes.first else { throw MissingOutcome(model: description.id) }
            let embedded = try outcome.get()
            response.usage.tokens = UInt64(embedded.tokens)
            response.usage.queueTimeNs = run.waited.nanoseconds
            response.usage.computeTimeNs = run.ran.nanoseconds
            vector = try spec.prepare(embedded.values)
        case .combination(let combination):
            let fields = EmbeddingFields(instruction: request.instruction, promptName: request.promptName, pooling: request.pooling)
            vector = try await combine(combination, spec: spec, fields: fields, what: "the query", usage: &response.usage).vector
        case nil:
            throw ServiceError.invalidArgument("SearchRequest has no query: set input (text, image or audio), vector or combination")
        }
        if request.includeQueryVector { response.queryVector.values = vector }

        let query = SearchQuery(
            vector: vector, topK: topK, filter: filter, minScore: request.hasMinScore ? request.minScore : nil,
            modalities: modalities, includeVectors: request.includeVectors, includePreviews: request.includePreviews)
        let hits = try await index.search([query], in: spec.name).first ?? []
        response.hits = hits.map(Rosetta_V1_SearchHit.init)
        return response
    }
}
