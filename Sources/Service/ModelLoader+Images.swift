import Encoders

extension ModelLoader {
    /// Bridges that bring images into every text space (ConSE over an image classifier). None yet.
    func imageBridges(_ registry: ModelRegistry) throws -> [any ModalityBridge] {
        []
    }

    /// Spaces trained jointly across modalities (CLIP: its own text and vision towers). None yet.
    func jointSpaces(_ registry: ModelRegistry) throws -> [any EmbeddingModel] {
        []
    }
}
