import Synchronization

/// The models this server has loaded, by id, with the default model per modality.
public struct ModelCatalog: Sendable {
    public let textModels: [any TextModel]

    public init(textModels: [any TextModel]) {
        self.textModels = textModels
    }

    public var descriptions: [ModelDescription] { textModels.map(\.description) }

    /// The model named `id`, or the default text model when `id` is empty.
    public func textModel(_ id: String) throws(ServiceError) -> any TextModel {
        if id.isEmpty {
            guard let model = textModels.first(where: \.description.isDefault) ?? textModels.first else {
                throw .noModel(modality: "text")
            }
            return model
        }
        guard let model = textModels.first(where: { $0.description.id == id }) else {
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
    public var current: ModelCatalog { catalog.withLock { $0 } ?? ModelCatalog(textModels: []) }

    public func loaded() throws(ServiceError) -> ModelCatalog {
        guard let catalog = catalog.withLock({ $0 }) else { throw .notReady }
        return catalog
    }
}
