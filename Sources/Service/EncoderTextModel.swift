import Encoders
import Tokenizers

/// A loaded BERT-family model from the registry: the text encoder of a text space.
struct EncoderTextModel: TextEncoding {
    let model: LoadedModel

    /// The space as Info reports it, before bridges add their modalities.
    func description(isDefault: Bool) -> ModelDescription {
        let spec = model.spec
        return ModelDescription(
            id: spec.id, architecture: spec.architecture.rawValue, modalities: [.text],
            dimensions: spec.dimensions, maxTokens: spec.maxTokens, space: spec.fingerprint,
            defaultPooling: model.embedder.defaultPooling == .cls ? .cls : .mean,
            promptNames: spec.promptNames, isDefault: isDefault
        )
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
