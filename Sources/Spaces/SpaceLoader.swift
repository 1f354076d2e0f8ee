import Encoders
import Foundation
import Logging
import Tensor

/// Builds the spaces of a models folder: loads every model of `<directory>/manifest.json` (`ModelRegistry`,
/// one loader for all architectures) and assembles them (docs/ARCHITECTURE.md, "Spaces"):
/// - each BERT-family model is a text space, with the bridges that bring other modalities into it: ConSE over
///   each image classifier, and speech through the default (else first) Whisper model;
/// - each CLIP or SigLIP checkpoint is a joint text-image space;
/// - each sound-effects model (aisfx) is an audio-to-audio space, which the speech bridge names for audio
///   without words.
/// A model whose folder is missing or broken is skipped with a logged reason; a broken manifest throws.
public struct SpaceLoader: Sendable {
    public let directory: URL
    public let threads: Int
    /// What the dense layers of the models are packed and multiplied in (Whisper's float16 checkpoint excepted).
    public let precision: Precision
    public let logger: Logger
    /// Limits the spaces enforce while decoding media (e.g. the image pixel limit).
    public let limits: MediaLimits
    /// Checkpoint folders served beside the manifest's models (Hub downloads).
    public let checkpoints: [CheckpointFolder]
    /// How the speech bridge transcribes (beam search or greedy).
    public let speechDecoding: SpeechDecoding

    public init(directory: URL, threads: Int, precision: Precision = .float32, logger: Logger,
                limits: MediaLimits = MediaLimits(), checkpoints: [CheckpointFolder] = [],
                speechDecoding: SpeechDecoding = SpeechDecoding()) {
        self.directory = directory
        self.checkpoints = checkpoints
        self.threads = threads
        self.precision = precision
        self.logger = logger
        self.limits = limits
        self.speechDecoding = speechDecoding
    }

    /// Why no spaces could be built: a broken manifest, or a checkpoint the operator asked for that failed to load
    /// (a manifest model that fails is skipped and logged; one asked for by name is not silently left out).
    public enum LoadError: Error, Sendable, CustomStringConvertible {
        case manifest(ManifestError)
        case checkpoint(id: String, reason: String)

        public var description: String {
            switch self {
            case let .manifest(error): "\(error)"
            case let .checkpoint(id, reason): "model \(id) cannot be served: \(reason)"
            }
        }
    }

    public func load() throws(LoadError) -> [any EmbeddingSpace] {
        if precision != precision.effective {
            logger.warning("precision \(precision.rawValue) needs AVX512-BF16, which this CPU lacks: the models run in \(precision.effective.rawValue)")
        } else {
            logger.info("precision \(precision.rawValue)")
        }
        let registry: ModelRegistry
        do {
            registry = try ModelRegistry.load(modelsDirectory: directory, checkpoints: checkpoints,
                                              options: LoadOptions(threads: threads, precision: precision))
        } catch {
            throw .manifest(error)
        }
        for line in registry.summary {
            logger.info("\(line)")
        }
        if let failed = registry.skipped.first(where: { skipped in checkpoints.contains { $0.id == skipped.id } }) {
            throw .checkpoint(id: failed.id, reason: failed.reason.description)
        }
        let soundSpaces = registry.loaded(LoadedSoundEffectsModel.self).map { SoundEffectsSpace(model: $0, limits: limits) }
        let bridges = imageBridges(registry) + speechBridges(registry, audioSpace: soundSpaces.first?.description.id)
        for bridge in bridges {
            logger.info("bridge \(bridge.name) brings \(bridge.modality) into every text space")
        }
        let defaultText = registry.defaultModel(LoadedBERT.self)?.id
        let textSpaces: [any EmbeddingSpace] = registry.loaded(LoadedBERT.self).map { model in
            let encoder = BERTTextEncoder(model: model)
            return TextSpace(text: encoder, description: encoder.description(isDefault: model.id == defaultText), bridges: bridges)
        }
        let jointSpaces: [any EmbeddingSpace] = registry.loaded(LoadedCLIP.self).map { JointSpace(model: $0, limits: limits) }
            + registry.loaded(LoadedSigLIP.self).map { JointSpace(model: $0, limits: limits) }
        return (textSpaces + jointSpaces + soundSpaces).map { space in
            registry.loadCosts[space.description.id].map { MeasuredSpace(space, cost: $0) } ?? space
        }
    }

    /// ConSE over each image classifier. The class-name embeddings of the default text model are computed (or
    /// read from the classifier's disk cache) here, at load, so the first image request does not pay for them;
    /// other text models get theirs on first use.
    func imageBridges(_ registry: ModelRegistry) -> [any ModalityBridge] {
        registry.loaded(LoadedImageClassifier.self).map { classifier in
            let bridge = ConSEBridge(classifier: classifier, limits: limits)
            if let text = registry.defaultModel(LoadedBERT.self) {
                let started = ContinuousClock.now
                do {
                    _ = try bridge.classNames.table(for: BERTTextEncoder(model: text))
                    logger.info("\(classifier.id): class-name embeddings for \(text.id) ready in \(ContinuousClock.now - started)")
                } catch {
                    logger.warning("\(classifier.id): class-name embeddings for \(text.id) failed (retried on first use): \(error)")
                }
            }
            return bridge
        }
    }

    /// Speech -> transcript -> text encoder, with the default (else first) Whisper model. Audio that has no
    /// words is pointed to `audioSpace`, the audio-to-audio space, when one is loaded.
    func speechBridges(_ registry: ModelRegistry, audioSpace: String?) -> [any ModalityBridge] {
        guard let speech = registry.defaultModel(LoadedSpeechModel.self) else { return [] }
        return [SpeechBridge(model: speech, limits: limits, audioSpace: audioSpace, decoding: speechDecoding)]
    }
}
