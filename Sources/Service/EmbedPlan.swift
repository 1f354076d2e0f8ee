import Foundation
import RosettaAPI
import Spaces

/// An EmbedRequest checked against the limits and the loaded models: the inputs to run, the inputs already
/// refused (each with its status), and how to shape and encode the vectors.
struct EmbedPlan {
    struct Item {
        var index: UInt32
        var input: SpaceInput
    }

    let model: any EmbeddingSpace
    let options: EmbeddingOptions
    let dimensions: Int
    let normalize: Bool
    let encoding: Rosetta_V1_Encoding
    private(set) var items: [Item] = []
    private(set) var rejected: [Rosetta_V1_EmbedResult] = []

    init(_ request: Rosetta_V1_EmbedRequest, models: ModelCatalog, limits: ServiceLimits) throws(ServiceError) {
        guard !request.inputs.isEmpty else {
            throw .invalidArgument("EmbedRequest.inputs is empty: give at least one input")
        }
        guard request.inputs.count <= limits.maxBatchItems else {
            throw .limitExceeded(limit: "the number of inputs", value: request.inputs.count, maximum: limits.maxBatchItems)
        }
        model = try models.model(request.model)
        let description = model.description
        options = try EmbeddingOptions(request, model: description)

        let requested = Int(request.dimensions)
        guard requested <= description.dimensions else {
            throw .invalidArgument(
                "dimensions is \(requested), but model '\(description.id)' has \(description.dimensions)"
            )
        }
        dimensions = requested
        normalize = request.hasNormalize ? request.normalize : true
        if case .UNRECOGNIZED(let value) = request.encoding {
            throw .invalidArgument("encoding \(value) is not one of FLOAT32, INT8, BINARY")
        }
        encoding = request.encoding

        for (position, input) in request.inputs.enumerated() {
            let index = UInt32(position)
            do {
                let item = try SpaceInput(input, position: position, limits: limits)
                guard description.modalities.contains(item.modality) else {
                    throw SpaceError.modalityNotSupported(model: description.id, modality: "\(item.modality)")
                }
                items.append(Item(index: index, input: item))
            } catch {
                rejected.append(.failure(index: index, modality: Rosetta_V1_Modality(input.kind), error))
            }
        }
    }

    /// The result for one input: its vector shaped and encoded as asked, or its error as a status.
    func result(for item: Item, outcome: Result<EmbeddedVector, any Error>) -> Rosetta_V1_EmbedResult {
        let modality = Rosetta_V1_Modality(item.input.modality)
        switch outcome {
        case .failure(let error):
            return .failure(index: item.index, modality: modality, error)
        case .success(let vector):
            var result = Rosetta_V1_EmbedResult()
            result.index = item.index
            result.modality = modality
            result.tokens = UInt32(vector.tokens)
            result.truncated = vector.truncated
            if let transcript = vector.transcript { result.transcript = transcript }
            if let p = vector.noSpeechProbability { result.noSpeechProbability = p }
            result.status = Rosetta_V1_ItemStatus()
            result.embedding = embedding(of: vector.values)
            return result
        }
    }

    private func embedding(of pooled: [Float]) -> Rosetta_V1_Embedding {
        let values = VectorEncoding.shape(pooled, dimensions: dimensions, normalize: normalize)
        var embedding = Rosetta_V1_Embedding()
        embedding.dimensions = UInt32(values.count)
        switch encoding {
        case .int8:
            let (codes, scale) = VectorEncoding.int8(values)
            embedding.int8 = Data(codes.map { UInt8(bitPattern: $0) })
            embedding.scale = scale
        case .binary:
            embedding.binary = Data(VectorEncoding.binary(values))
        case .float32, .UNRECOGNIZED:
            embedding.float32 = values
        }
        return embedding
    }
}

extension EmbeddingOptions {
    init(_ request: Rosetta_V1_EmbedRequest, model: SpaceDescription) throws(ServiceError) {
        self.init()
        switch (request.instruction.isEmpty, request.promptName.isEmpty) {
        case (false, false):
            throw .invalidArgument("give either instruction or prompt_name, not both")
        case (false, true):
            instruction = .text(request.instruction)
        case (true, false):
            guard model.promptNames.contains(request.promptName) else {
                throw .unknownPrompt(name: request.promptName, model: model.id, known: model.promptNames)
            }
            instruction = .prompt(name: request.promptName)
        case (true, true):
            instruction = nil
        }
        switch request.pooling {
        case .default: pooling = nil
        case .mean: pooling = .mean
        case .cls: pooling = .cls
        case .instruction:
            guard case .text = instruction else {
                throw .invalidArgument("POOLING_INSTRUCTION needs an instruction (free text, e.g. \"the dog\"): it is the query the item's tokens are pooled by")
            }
            pooling = .instruction
        case .UNRECOGNIZED(let value):
            throw .invalidArgument("pooling \(value) is not one of DEFAULT, MEAN, INSTRUCTION, CLS")
        }
        switch request.truncate {
        case .unspecified, .end: truncation = .end
        case .start: truncation = .start
        case .none: truncation = .none
        case .UNRECOGNIZED(let value):
            throw .invalidArgument("truncate \(value) is not one of END, START, NONE")
        }
    }
}

extension Rosetta_V1_EmbedResult {
    static func failure(index: UInt32, modality: Rosetta_V1_Modality, _ error: any Error) -> Self {
        var result = Self()
        result.index = index
        result.modality = modality
        result.status = Rosetta_V1_ItemStatus(error)
        return result
    }
}
