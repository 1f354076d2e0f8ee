import Encoders
import Tokenizers

/// A loaded BERT-family model from the registry, seen through the `EmbeddingModel` seam: a text space
/// entered from text only (image and audio bridges into it are added by the loader when present).
struct EncoderTextModel: EmbeddingModel {
    let model: LoadedModel
    let description: ModelDescription

    init(_ model: LoadedModel, isDefault: Bool) {
        self.model = model
        let spec = model.spec
        description = ModelDescription(
            id: spec.id, architecture: spec.architecture.rawValue, modalities: [.text],
            dimensions: spec.dimensions, maxTokens: spec.maxTokens, space: spec.fingerprint,
            defaultPooling: model.embedder.defaultPooling == .cls ? .cls : .mean,
            promptNames: spec.promptNames, isDefault: isDefault
        )
    }

    func embed(_ inputs: [ModelInput], options: EmbeddingOptions) -> [Result<EmbeddedVector, any Error>] {
        let texts = inputs.map { input in
            guard case .text(let text) = input else { preconditionFailure("EmbedPlan passes only text to a text model") }
            return text
        }
        return embed(texts: texts, options: options)
    }

    func embed(texts: [String], options: EmbeddingOptions) -> [Result<EmbeddedVector, any Error>] {
        let spec = model.spec
        let prompted: [String]
        switch options.instruction {
        case nil: prompted = texts
        case .prompt(let name): prompted = texts.map { spec.prompted($0, promptName: name) ?? $0 }
        case .text(let instruction): prompted = texts.map { spec.instructed($0, instruction: instruction) }
        }
        let pooling: Pooling? = switch options.pooling {
        case .mean: .mean
        case .cls: .cls
        case .instruction, nil: nil
        }
        let truncation: Truncation = switch options.truncation {
        case .end: .end
        case .start: .start
        case .none: .none
        }
        return model.embedder.embedEach(prompted, pooling: pooling, truncation: truncation).map { outcome in
            outcome.map { EmbeddedVector(values: $0.vector, tokens: $0.tokenCount, truncated: $0.truncated) }
                .mapError { $0 }
        }
    }
}
