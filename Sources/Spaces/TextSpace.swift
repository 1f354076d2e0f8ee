import Domain

/// What a bridge may ask of the text encoder of the space it brings inputs into.
protocol TextEncoding: Sendable {
    func embed(texts: [String], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>]
}

extension TextEncoding {
    func embed(texts: [String], options: EmbeddingOptions) -> [Result<EmbeddedVector, any Error>] {
        embed(texts: texts, options: options, abandoned: .never)
    }
}

/// Brings inputs of one non-text modality into a text space: an image classifier through its label names
/// (ConSE), speech through its transcript. Generic over the text encoder, so any text space can take it.
protocol ModalityBridge: Sendable {
    var modality: Modality { get }
    /// Names the bridge's own models, for logs and Info.
    var name: String { get }
    /// One outcome per item, in order; vectors live in `text`'s space.
    func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding,
               abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>]
}

/// A text space (docs/ARCHITECTURE.md, "Spaces": text is the pivot) and the bridges that bring other modalities
/// into it. Its fingerprint is the text model's: bridged vectors are mixtures of that model's text embeddings.
struct TextSpace: EmbeddingSpace {
    let text: any TextEncoding
    let bridges: [any ModalityBridge]
    let description: SpaceDescription

    init(text: any TextEncoding, description: SpaceDescription, bridges: [any ModalityBridge]) {
        self.text = text
        self.bridges = bridges
        var description = description
        description.modalities = [.text] + bridges.map(\.modality)
        self.description = description
    }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        var outcomes = [Result<EmbeddedVector, any Error>?](repeating: nil, count: inputs.count)
        let texts = inputs.indices.compactMap { i -> (Int, String)? in
            if case .text(let text) = inputs[i] { return (i, text) } else { return nil }
        }
        if !texts.isEmpty {
            let embedded = text.embed(texts: texts.map(\.1), options: options, abandoned: abandoned.subset(texts.map(\.0)))
            for ((i, _), outcome) in zip(texts, embedded) {
                outcomes[i] = outcome
            }
        }
        for bridge in bridges {
            let media = inputs.indices.compactMap { i -> (Int, MediaBytes)? in
                switch inputs[i] {
                case .image(let media) where bridge.modality == .image: (i, media)
                case .audio(let media) where bridge.modality == .audio: (i, media)
                default: nil
                }
            }
            guard !media.isEmpty else { continue }
            let embedded = bridge.embed(media.map(\.1), options: options, text: text, abandoned: abandoned.subset(media.map(\.0)))
            for ((i, _), outcome) in zip(media, embedded) {
                outcomes[i] = outcome
            }
        }
        return outcomes.enumerated().map { i, outcome in
            outcome ?? .failure(SpaceError.modalityNotSupported(model: description.id, modality: "\(inputs[i].modality)"))
        }
    }
}
