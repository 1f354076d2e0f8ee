import Encoders

/// A space whose description carries what loading its model cost (`ModelRegistry.loadCosts`), for Info; it
/// embeds as the space it wraps.
struct MeasuredSpace: EmbeddingSpace {
    let space: any EmbeddingSpace
    let description: SpaceDescription

    init(_ space: any EmbeddingSpace, cost: ModelRegistry.LoadCost) {
        self.space = space
        var description = space.description
        description.loadSeconds = cost.seconds
        description.loadResidentBytes = cost.residentBytes
        self.description = description
    }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        space.embed(inputs, options: options, abandoned: abandoned)
    }
}
