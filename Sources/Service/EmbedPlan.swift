import Foundation
import RosettaAPI

/// An EmbedRequest checked against the limits and the loaded models: the inputs to run, the inputs already
/// refused (each with its status), and how to shape and encode the vectors.
struct EmbedPlan {
    struct TextItem {
        var index: UInt32
        var text: String
    }

    let model: any TextModel
    let options: TextEmbeddingOptions
    let dimensions: Int
    let normalize: Bool
    let encoding: Rosetta_V1_Encoding
    private(set) var texts: [TextItem] = []
    private(set) var rejected: [Rosetta_V1_EmbedResult] = []

    init(_ request: Rosetta_V1_EmbedRequest, models: ModelCatalog, limits: ServiceLimits) throws(ServiceError) {
        guard !request.inputs.isEmpty else {
            throw .invalidArgument("EmbedRequest.inputs is empty: give at least one input")
        }
        guard request.inputs.count <= limits.maxBatchItems else {
            throw .limitExceeded(limit: "the number of inputs", value: request.inputs.count, maximum: limits.maxBatchItems)
        }
        model = try models.textModel(request.model)
        let description = model.description
        options = try TextEmbeddingOptions(request, model: description)

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
            switch input.kind {
            case .text(let text):
                if let problem = Self.problem(with: text, limits: limits) {
                    rejected.append(.failure(index: index, modality: .text, problem))
                } else {
                    texts.append(TextItem(index: index, text: text))
                }
            case .image:
                rejected.append(.failure(index: index, modality: .image, ServiceError.noModel(modality: "image")))
            case .audio:
                rejected.append(.failure(index: index, modality: .audio, ServiceError.noModel(modality: "audio")))
            case nil:
                rejected.append(.failure(
                    index: index, modality: .unspecified,
                    ServiceError.invalidArgument("input \(index) is empty: set one of text, image or audio")
                ))
            }
        }
    }

    private static func problem(with text: String, limits: ServiceLimits) -> ServiceError? {
        if text.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            return .invalidArgument("text is empty or only whitespace")
        }
        let length = text.unicodeScalars.count
        if length > limits.maxTextCharacters {
            return .limitExceeded(limit: "text length in characters", value: length, maximum: limits.maxTextCharacters)
        }
        return nil
    }

    /// The result for one input: its vector shaped and encoded as asked, or its error as a status.
    func result(index: UInt32, outcome: Result<TextVector, any Error>) -> Rosetta_V1_EmbedResult {
        switch outcome {
        case .failure(let error):
            return .failure(index: index, modality: .text, error)
        case .success(let vector):
            var result = Rosetta_V1_EmbedResult()
            result.index = index
            result.modality = .text
            result.tokens = UInt32(vector.tokens)
            result.truncated = vector.truncated
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

extension TextEmbeddingOptions {
    init(_ request: Rosetta_V1_EmbedRequest, model: ModelDescription) throws(ServiceError) {
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
            throw .unimplemented(
                "INSTRUCTION pooling needs token vectors in the joint space; text models use the instruction as a prefix: use POOLING_DEFAULT with instruction"
            )
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
