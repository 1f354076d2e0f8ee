import Domain
import Index
import RosettaAPI
import Spaces
import Tensor

extension IndexService {
    /// The request fields that say how a Search's or an Upsert's raw inputs are embedded.
    struct EmbeddingFields {
        var instruction: String
        var promptName: String
        var pooling: Rosetta_V1_Pooling
    }

    /// A weighted combination (one query, or one item) as one vector shaped for the collection, following
    /// Marqo's `multimodal_combination`: each part's vector (an input embedded with the collection's model, all of
    /// them in one forward; or a given vector, shaped by `spec.prepare`) is L2-normalised and multiplied by its
    /// weight; the sum is shaped like the collection's vectors. Its modality is that of the input with the
    /// largest positive weight, `.vector` when only vectors weigh positively. `what` names it in messages.
    func combine(_ combination: Rosetta_V1_Combination, spec: CollectionSpec, fields: EmbeddingFields, what: String,
                 usage: inout Rosetta_V1_Usage) async throws -> (vector: [Float], modality: Modality) {
        let parts = combination.parts
        guard !parts.isEmpty else {
            throw ServiceError.invalidArgument("\(what) is a combination with no parts: give at least one weighted input or vector")
        }
        guard parts.count <= limits.maxBatchItems else {
            throw ServiceError.limitExceeded(limit: "\(what)'s number of parts", value: parts.count, maximum: limits.maxBatchItems)
        }
        for (i, part) in parts.enumerated() where !part.weight.isFinite || part.weight == 0 {
            throw ServiceError.invalidArgument(
                "\(what): part \(i) has weight \(part.weight); every weight must be finite and non-zero (a negative one pushes away)")
        }
        guard parts.contains(where: { $0.weight > 0 }) else {
            throw ServiceError.invalidArgument(
                "\(what): every weight is negative, so there is nothing to move toward: give at least one part a positive weight")
        }

        var unitVectors = [[Float]](repeating: [], count: parts.count)
        var inputs: [(index: Int, input: SpaceInput)] = []
        for (i, part) in parts.enumerated() {
            switch part.part {
            case .vector(let vector):
                guard vector.values.contains(where: { $0 != 0 }) else {
                    throw ServiceError.invalidArgument("\(what): part \(i) is a vector of zeros, which has no direction")
                }
                unitVectors[i] = Ops.l2Normalized(try spec.prepare(vector.values))
            case .input(let input): inputs.append((i, try SpaceInput(input, position: i, limits: limits)))
            case nil: throw ServiceError.invalidArgument("\(what): part \(i) has neither an input nor a vector")
            }
        }
        if !inputs.isEmpty {
            let model = try model(for: spec, modality: Rosetta_V1_Modality(inputs[0].input.modality))
            let description = model.description
            for (_, input) in inputs where !description.modalities.contains(input.modality) {
                throw SpaceError.modalityNotSupported(model: description.id, modality: "\(input.modality)")
            }
            let options = try Self.options(instruction: fields.instruction, promptName: fields.promptName,
                                           pooling: fields.pooling, model: description)
            let run = try await scheduler.embed(inputs.map(\.input), model: model, options: options)
            usage.queueTimeNs += run.waited.nanoseconds
            usage.computeTimeNs += run.ran.nanoseconds
            for ((index, _), outcome) in zip(inputs, run.outcomes) {
                let embedded = try outcome.get()
                usage.tokens += UInt64(embedded.tokens)
                unitVectors[index] = Ops.l2Normalized(try spec.prepare(embedded.values))
            }
        }

        var sum = [Float](repeating: 0, count: spec.dimensions)
        for (vector, part) in zip(unitVectors, parts) {
            for d in sum.indices { sum[d] += part.weight * vector[d] }
        }
        let totalWeight = parts.reduce(Float(0)) { $0 + abs($1.weight) }
        guard totalWeight.isFinite, sum.allSatisfy(\.isFinite) else {
            throw ServiceError.invalidArgument("\(what): the weights are too large (their weighted sum overflows): scale them down")
        }
        guard Ops.l2Norm(sum) > 1e-4 * totalWeight else {
            throw ServiceError.invalidArgument("\(what): the weighted parts cancel out (their sum has no length): change the weights")
        }
        let leading = inputs.max { parts[$0.index].weight < parts[$1.index].weight }
        let modality = leading.flatMap { parts[$0.index].weight > 0 ? $0.input.modality : nil } ?? .vector
        return (try spec.prepare(sum), modality)
    }
}
