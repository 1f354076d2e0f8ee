import Encoders
import Foundation
import Logging
import Tensor

/// Loads the models named in `<directory>/manifest.json` and adapts them for the handlers. A model whose
/// folder is missing or broken is skipped with a logged reason; a broken manifest stops the server.
public struct ModelLoader: Sendable {
    public let directory: URL
    public let threads: Int
    /// What the dense layers of the models are packed and multiplied in (Whisper's float16 checkpoint excepted).
    public let precision: Precision
    public let logger: Logger
    /// Request limits the bridges enforce while decoding (e.g. the image pixel limit).
    public let limits: ServiceLimits

    public init(directory: URL, threads: Int, precision: Precision = .float32, logger: Logger,
                limits: ServiceLimits = ServiceLimits()) {
        self.directory = directory
        self.threads = threads
        self.precision = precision
        self.logger = logger
        self.limits = limits
    }

    public func load() async throws -> ModelCatalog {
        BLAS.setThreadCount(threads)
        if precision != precision.effective {
            logger.warning("precision \(precision.rawValue) needs AVX512-BF16, which this CPU lacks: the models run in \(precision.effective.rawValue)")
        } else {
            logger.info("precision \(precision.rawValue)")
        }
        let registry = try ModelRegistry.load(modelsDirectory: directory, precision: precision)
        for line in registry.summary {
            logger.info("\(line)")
        }
        let defaultID = registry.defaultModel(for: .text)?.spec.id
        let soundSpaces = soundEffectsSpaces(registry)
        let bridges = try imageBridges(registry) + audioBridges(registry, audioSpace: soundSpaces.first?.description.id)
        for bridge in bridges {
            logger.info("bridge \(bridge.name) brings \(bridge.modality) into every text space")
        }
        let textSpaces: [any EmbeddingModel] = registry.loaded.map { model in
            let encoder = EncoderTextModel(model: model)
            return TextSpace(text: encoder, description: encoder.description(isDefault: model.spec.id == defaultID), bridges: bridges)
        }
        return ModelCatalog(models: textSpaces + (try jointSpaces(registry)) + soundSpaces)
    }
}
