import Domain
import Encoders

/// A loaded BERT-family model as the text encoder of a text space: a named prompt's prefix or a free
/// instruction through the model's template, then `TextEmbedder` (tokenize, forward, pool, normalise).
struct BERTTextEncoder: TextEncoding {
    let model: LoadedBERT

    /// The space as Info reports it, before bridges add their modalities.
    func description(isDefault: Bool) -> SpaceDescription {
        let spec = model.spec
        return SpaceDescription(
            id: spec.id, architecture: spec.architecture.rawValue, modalities: LoadedBERT.modalities,
            dimensions: spec.dimensions, maxTokens: spec.maxTokens, space: spec.fingerprint,
            defaultPooling: model.embedder.defaultPooling, promptNames: spec.promptNames, isDefault: isDefault,
            takesInstructions: true
        )
    }

    func embed(texts: [String], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        let spec = model.spec
        let prompted: [String]
        switch options.instruction {
        case nil: prompted = texts
        case .prompt(let name): prompted = texts.map { spec.prompted($0, promptName: name) ?? $0 }
        case .text(let instruction):
            if let error = instructionError(instruction) { return texts.map { _ in .failure(error) } }
            prompted = texts.map { spec.instructed($0, instruction: instruction) }
        }
        let outcomes = model.embedder.embedEach(prompted, pooling: options.pooling, truncation: options.truncation,
                                                stop: { abandoned($0) })
        return outcomes.map { outcome in
            outcome.map { EmbeddedVector(values: $0.vector, tokens: $0.tokenCount, truncated: $0.truncated) }
                .mapError { (error: EncoderError) -> any Error in error == .stopped ? SpaceError.abandoned : error }
        }
    }

    /// Why `instruction` leaves the input too little room, or nil. Counting stops just past the limit, so a
    /// huge instruction costs no more than a short one until the message needs its full count.
    private func instructionError(_ instruction: String) -> SpaceError? {
        let prefix = model.spec.instructed("", instruction: instruction)
        let limit = SpaceDescription.instructionLimit(maxTokens: model.spec.maxTokens)
        guard let probe = try? model.tokenizer.encode(prefix, maxTokens: limit + 2, truncation: .end), probe.truncated else {
            return nil
        }
        let full = try? model.tokenizer.encode(prefix, maxTokens: Int.max / 2, truncation: .none)
        return .instructionTooLong(model: model.spec.id, tokens: full.map { $0.ids.count - 2 }, limit: limit)
    }
}
