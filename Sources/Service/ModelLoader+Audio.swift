import Encoders

extension ModelLoader {
    /// Bridges that bring audio into every text space (speech -> transcript -> text encoder). None yet.
    func audioBridges(_ registry: ModelRegistry) throws -> [any ModalityBridge] {
        []
    }
}
