import Domain
import Encoders
import Foundation
import Media
import Tensor

/// Brings images into a text space through an ImageNet classifier and ConSE (docs/ARCHITECTURE.md, "Spaces"):
/// decode, crop, classify, then mix the text embeddings of the top-T class names (`ClassNameTable`) by their
/// probabilities (`ConSE`). With MEAN or INSTRUCTION pooling the image's token set is the concept vectors of
/// the whole image and its four corner regions.
struct ConSEBridge: ModalityBridge {
    let modality: Modality = .image
    let classifier: LoadedImageClassifier
    let preprocessing: ImagePreprocessing
    let conse: ConSE
    let maxImagePixels: Int
    let instructionPooling: InstructionPooling
    /// Side of each corner region, as a fraction of the image's (token views for instruction pooling).
    let regionFraction = 0.6
    /// Images per forward pass (bounds activation memory: ~5 MB per image at 224²).
    let maxBatch = 16
    let classNames: ClassNameTable

    var name: String { "\(classifier.id) (ConSE, top \(conse.topK), T=\(conse.temperature))" }

    init(classifier: LoadedImageClassifier, limits: MediaLimits) {
        self.classifier = classifier
        preprocessing = ImagePreprocessing(resize: classifier.resize, crop: classifier.crop, mean: classifier.mean, std: classifier.std)
        conse = ConSE(topK: classifier.topK, temperature: classifier.temperature)
        maxImagePixels = limits.maxImagePixels
        instructionPooling = classifier.instructionPooling
        classNames = ClassNameTable(classifier: classifier)
    }

    func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding) -> [Result<EmbeddedVector, any Error>] {
        let pooling = TokenPooling(options)
        let classified = classify(media, regions: pooling != .native)
        guard classified.contains(where: { (try? $0.get()) != nil }) else { return classified.map { $0.map { _ in EmbeddedVector(values: []) } } }
        let table: [[Float]]
        let query: [Float]?
        do {
            table = try classNames.table(for: text)
            if case .instruction(let instruction) = pooling { query = try text.query(instruction) } else { query = nil }
        } catch {
            return media.map { _ in .failure(error) }
        }
        return classified.map { outcome in
            outcome.map { views in
                let native = conse.embed(views[0], classEmbeddings: table)
                guard pooling != .native else { return EmbeddedVector(values: native) }
                let concepts = conse.concepts(views: views)
                let tokens = concepts.map { table[$0.index] }
                if let query {
                    return EmbeddedVector(values: instructionPooling.pool(native: native, tokens: tokens, prior: concepts.map(\.prior), query: query))
                }
                return EmbeddedVector(values: InstructionPooling.mean(tokens))
            }
        }
    }

    /// Logits of each image, or why it could not be decoded: of the whole image, then (with `regions`) of its
    /// four corner regions, the views whose classes make the image's token set.
    func classify(_ media: [MediaBytes], regions: Bool = false) -> [Result<[[Float]], any Error>] {
        let size = classifier.crop
        var outcomes = [Result<[[Float]], any Error>](repeating: .success([]), count: media.count)
        var ready: [(item: Int, pixels: [Float])] = []
        for (i, item) in media.enumerated() {
            do {
                let image = try ImageDecoder.decode(item.data, maxPixels: maxImagePixels)
                let views = regions ? [image] + image.cornerRegions(fraction: regionFraction) : [image]
                ready += views.map { (i, preprocessing($0)) }
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        var start = 0
        while start < ready.count {
            let chunk = ready[start..<min(start + maxBatch, ready.count)]
            do {
                let input = try Tensor(shape: [chunk.count, size, size, 3], values: chunk.flatMap(\.pixels))
                let logits = try classifier.model.forward(input).logits.toArray()
                let classes = classifier.model.numClasses
                for (row, view) in chunk.enumerated() {
                    outcomes[view.item] = outcomes[view.item].map { $0 + [Array(logits[(row * classes)..<((row + 1) * classes)])] }
                }
            } catch {
                for view in chunk { outcomes[view.item] = .failure(error) }
            }
            start += maxBatch
        }
        return outcomes
    }
}
