import Encoders
import Tokenizers

/// A loaded BERT-family model from the registry, seen through the `TextModel` seam.
struct EncoderTextModel: TextModel {
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

    func embed(_ texts: [String], options: TextEmbeddingOptions) -> [Result<TextVector, any Error>] {
        let spec = model.spec
        let inputs: [String]
        switch options.instruction {
        case nil: inputs = texts
        case .prompt(let name): inputs = texts.map { spec.prompted($0, promptName: name) ?? $0 }
        case .text(let instruction): inputs = texts.map { spec.instructed($0, instruction: instruction) }
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
        return model.embedder.embedEach(inputs, pooling: pooling, truncation: truncation).map { outcome in
            outcome.map { TextVector(values: $0.vector, tokens: $0.tokenCount, truncated: $0.truncated) }
                .mapError { $0 }
        }
    }
}
