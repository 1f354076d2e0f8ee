import Foundation
import Index
import RosettaAPI
import Domain
import Spaces

extension IndexService {
    /// Upsert: items with vectors are shaped for the collection; items with raw inputs are embedded (one model
    /// call for all of them) and shaped the same way; a combination item is embedded and combined on its own. Every item that is ready is written in one index call —
    /// one log record, one fsync — and only then is the response sent. An item that cannot be stored gets its
    /// own status and is not written; a failure of the write itself fails the call and acknowledges nothing.
    public func upsert(_ request: Rosetta_V1_UpsertRequest) async throws -> Rosetta_V1_UpsertResponse {
        ServiceMetrics.upsertBatchItems.record(request.items.count)
        guard !request.items.isEmpty else {
            throw ServiceError.invalidArgument("UpsertRequest.items is empty: give at least one item")
        }
        guard request.items.count <= limits.maxBatchItems else {
            throw ServiceError.limitExceeded(limit: "the number of items", value: request.items.count, maximum: limits.maxBatchItems)
        }
        let spec = try await index.collection(request.collection).spec

        var results = [Rosetta_V1_ItemResult?](repeating: nil, count: request.items.count)
        var ready: [(position: Int, item: IndexItem)] = []
        var toEmbed: [(position: Int, item: IndexItem, input: SpaceInput)] = []
        var toCombine: [(position: Int, item: IndexItem, combination: Rosetta_V1_Combination)] = []
        for (position, item) in request.items.enumerated() {
            do {
                let metadata = try checkedMetadata(item, position: position)
                switch item.content {
                case .vector(let vector):
                    let values = try spec.prepare(vector.values, space: item.vectorSpace)
                    ready.append((position, IndexItem(id: item.id, vector: values, metadata: metadata, modality: .vector)))
                case .input(let input):
                    let modelInput = try SpaceInput(input, position: position, limits: limits)
                    toEmbed.append((position, IndexItem(id: item.id, vector: [], metadata: metadata, modality: modelInput.modality), modelInput))
                case .combination(let combination):
                    toCombine.append((position, IndexItem(id: item.id, vector: [], metadata: metadata, modality: .vector), combination))
                case nil:
                    throw ServiceError.invalidArgument("item \(position) ('\(item.id)') has no input, vector or combination")
                }
            } catch {
                results[position] = .failure(position: position, id: item.id, error)
            }
        }

        var usage = Rosetta_V1_Usage()
        usage.items = UInt64(request.items.count)
        if !toEmbed.isEmpty {
            let embedded = try await embed(toEmbed, spec: spec, request: request, usage: &usage)
            for (position, outcome) in embedded {
                switch outcome {
                case .success(let item): ready.append((position, item))
                case .failure(let error): results[position] = .failure(position: position, id: request.items[position].id, error)
                }
            }
        }
        let fields = EmbeddingFields(instruction: request.instruction, promptName: request.promptName, pooling: request.pooling)
        for (position, item, combination) in toCombine {
            do {
                var combined = item
                (combined.vector, combined.modality) = try await combine(
                    combination, spec: spec, fields: fields, what: "item \(position) ('\(item.id)')", usage: &usage)
                ready.append((position, combined))
            } catch {
                results[position] = .failure(position: position, id: item.id, error)
            }
        }
        ready.sort { $0.position < $1.position }

        if !ready.isEmpty {
            try await index.upsert(ready.map(\.item), into: spec.name)
            for (position, item) in ready { results[position] = .success(position: position, id: item.id) }
        }
        var response = Rosetta_V1_UpsertResponse()
        response.results = results.compactMap { $0 }
        response.usage = usage
        response.requestID = request.requestID
        return response
    }

    /// Embeds the raw inputs with the collection's model and shapes each vector; one outcome per input.
    private func embed(
        _ pending: [(position: Int, item: IndexItem, input: SpaceInput)], spec: CollectionSpec,
        request: Rosetta_V1_UpsertRequest, usage: inout Rosetta_V1_Usage
    ) async throws -> [(Int, Result<IndexItem, any Error>)] {
        let model: any EmbeddingSpace
        do {
            model = try self.model(for: spec, modality: Rosetta_V1_Modality(pending[0].input.modality))
        } catch {
            // No model for this collection: every raw input fails alike, the vectors may still be stored.
            return pending.map { ($0.position, .failure(error)) }
        }
        let description = model.description
        var options = try Self.options(instruction: request.instruction, promptName: request.promptName,
                                       pooling: request.pooling, model: description)
        options.previews = spec.keepPreviews
        var outcomes: [(Int, Result<IndexItem, any Error>)] = []
        var runnable: [(position: Int, item: IndexItem, input: SpaceInput)] = []
        for entry in pending {
            if description.modalities.contains(entry.input.modality) {
                runnable.append(entry)
            } else {
                outcomes.append((entry.position, .failure(SpaceError.modalityNotSupported(model: description.id, modality: "\(entry.input.modality)"))))
            }
        }
        guard !runnable.isEmpty else { return outcomes }
        let run = try await scheduler.embed(runnable.map(\.input), model: model, options: options)
        usage.queueTimeNs = run.waited.nanoseconds
        usage.computeTimeNs = run.ran.nanoseconds
        for (entry, outcome) in zip(runnable, run.outcomes) {
            outcomes.append((entry.position, Result {
                let vector = try outcome.get()
                usage.tokens += UInt64(vector.tokens)
                var item = entry.item
                item.vector = try spec.prepare(vector.values)
                item.preview = vector.preview
                return item
            }))
        }
        return outcomes
    }

    /// The item's metadata, after checking its id and the metadata limits.
    private func checkedMetadata(_ item: Rosetta_V1_Item, position: Int) throws -> Metadata {
        guard !item.id.isEmpty else { throw ServiceError.invalidArgument("item \(position) has no id") }
        guard item.id.utf8.count <= limits.maxIDBytes else {
            throw ServiceError.invalidArgument(
                "item \(position) has an id of \(item.id.utf8.count) bytes, over the server's limit of \(limits.maxIDBytes)")
        }
        guard item.metadata.count <= limits.maxMetadataKeys else {
            throw ServiceError.limitExceeded(
                limit: "item \(position)'s number of metadata keys", value: item.metadata.count, maximum: limits.maxMetadataKeys)
        }
        let metadata = try Metadata(item.metadata, position: position)
        let bytes = metadata.byteCount
        guard bytes <= limits.maxMetadataBytes else {
            throw ServiceError.limitExceeded(limit: "item \(position)'s metadata size in bytes", value: bytes, maximum: limits.maxMetadataBytes)
        }
        return metadata
    }
}

extension Rosetta_V1_ItemResult {
    static func success(position: Int, id: String) -> Self {
        var result = Self()
        result.index = UInt32(position)
        result.id = id
        result.status = Rosetta_V1_ItemStatus()
        return result
    }

    static func failure(position: Int, id: String, _ error: any Error) -> Self {
        var result = Self()
        result.index = UInt32(position)
        result.id = id
        result.status = Rosetta_V1_ItemStatus(error)
        return result
    }
}
