import Synchronization
import Spaces

/// The embedding models (spaces) this server has loaded, by id, with the default one.
public struct ModelCatalog: Sendable {
    public let models: [any EmbeddingSpace]

    public init(models: [any EmbeddingSpace]) {
        self.models = models
    }

    public var descriptions: [SpaceDescription] { models.map(\.description) }

    /// The model named `id`, or the default model when `id` is empty.
    public func model(_ id: String) throws(ServiceError) -> any EmbeddingSpace {
        if id.isEmpty {
            guard let model = models.first(where: \.description.isDefault) ?? models.first else {
                throw .noModel(modality: "embedding")
            }
            return model
        }
        guard let model = models.first(where: { $0.description.id == id }) else {
            throw .modelNotFound(requested: id, loaded: descriptions.map(\.id))
        }
        return model
    }
}

/// Holds the catalog once the models are loaded; until then model calls are refused with UNAVAILABLE,
/// while Info and health already answer.
public final class ModelSlot: Sendable {
    private let catalog: Mutex<ModelCatalog?>

    public init(_ catalog: ModelCatalog? = nil) {
        self.catalog = Mutex(catalog)
    }

    public func install(_ catalog: ModelCatalog) {
        self.catalog.withLock { $0 = catalog }
    }

    /// The loaded catalog, or an empty one while models load.
    public var current: ModelCatalog { catalog.withLock { $0 } ?? ModelCatalog(models: []) }

    public func loaded() throws(ServiceError) -> ModelCatalog {
        guard let catalog = catalog.withLock({ $0 }) else { throw .notReady }
        return catalog
    }
}
