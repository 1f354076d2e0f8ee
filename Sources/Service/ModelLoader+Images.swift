import Encoders
import Foundation

extension ModelLoader {
    /// Bridges that bring images into every text space: ConSE over each image classifier of the manifest
    /// (EfficientNet-Lite). The class-name embeddings of the default text model are computed (or read from
    /// the classifier's disk cache) here, at load, so the first image request does not pay for them; other
    /// text models get theirs on first use.
    func imageBridges(_ registry: ModelRegistry) throws -> [any ModalityBridge] {
        let (classifiers, skipped) = ModelRegistry.loadImageClassifiers(modelsDirectory: directory, threads: threads,
                                                                             precision: precision)
        for s in skipped { logger.warning("image classifier skipped: \(s)") }
        let bridges = classifiers.map { ConSEBridge(classifier: $0, limits: limits) }
        for (bridge, classifier) in zip(bridges, classifiers) {
            let s = classifier.spec
            logger.info("loaded \(s.id) (efficientnet-lite, \(classifier.model.blockCount) blocks, \(s.crop)px, \(s.classes.count) classes, \(s.templates.count) templates, space \(s.fingerprint))")
            guard let text = registry.defaultModel(for: .text) else { continue }
            let started = ContinuousClock.now
            do {
                _ = try bridge.table(for: EncoderTextModel(model: text))
                logger.info("\(s.id): class-name embeddings for \(text.spec.id) ready in \(ContinuousClock.now - started)")
            } catch {
                logger.warning("\(s.id): class-name embeddings for \(text.spec.id) failed (retried on first use): \(error)")
            }
        }
        return bridges
    }

    /// Spaces trained jointly across modalities: each CLIP checkpoint of the manifest (its own text and vision
    /// towers; models/README.md says how to add one).
    func jointSpaces(_ registry: ModelRegistry) throws -> [any EmbeddingModel] {
        let (models, skipped) = ModelRegistry.loadCLIPModels(modelsDirectory: directory, precision: precision)
        for s in skipped { logger.warning("CLIP model skipped: \(s)") }
        return models.map { clip in
            let c = clip.model.config
            logger.info("loaded \(clip.id) (clip, ViT \(c.vision.layers)x\(c.vision.width) /\(c.patchSize) at \(c.imageSize)px, text \(c.text.layers)x\(c.text.width), \(c.projectionDim)-d joint space \(clip.fingerprint))")
            return CLIPSpace(clip: clip, limits: limits)
        }
    }
}
