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

    func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding,
               abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        let pooling = TokenPooling(options)
        let classified = classify(media, regions: pooling != .native, abandoned: abandoned)
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
    /// four corner regions, the views whose classes make the image's token set. Images are decoded as the
    /// forwards of `maxBatch` views need them, so at most a forward's views (and one image's) are held at once;
    /// an image whose caller is gone is dropped before its decoding and before each forward.
    func classify(_ media: [MediaBytes], regions: Bool = false, abandoned: Abandonment = .never) -> [Result<[[Float]], any Error>] {
        var outcomes = [Result<[[Float]], any Error>](repeating: .success([]), count: media.count)
        var pending: [(item: Int, pixels: [Float])] = []
        for (i, item) in media.enumerated() {
            guard !abandoned(i) else {
                outcomes[i] = .failure(SpaceError.abandoned)
                continue
            }
            do {
                let image = try ImageDecoder.decode(item.data, maxPixels: maxImagePixels)
                let views = regions ? [image] + image.cornerRegions(fraction: regionFraction) : [image]
                pending += views.map { (i, preprocessing($0)) }
            } catch {
                outcomes[i] = .failure(error)
            }
            while pending.count >= maxBatch || (i == media.count - 1 && !pending.isEmpty) {
                let chunk = pending.prefix(maxBatch)
                pending.removeFirst(chunk.count)
                forward(chunk, into: &outcomes, abandoned: abandoned)
            }
        }
        return outcomes
    }

    /// Classifies one batch of views and appends each view's logits to its image's outcome.
    private func forward(_ views: ArraySlice<(item: Int, pixels: [Float])>, into outcomes: inout [Result<[[Float]], any Error>],
                         abandoned: Abandonment) {
        for view in views where abandoned(view.item) { outcomes[view.item] = .failure(SpaceError.abandoned) }
        let views = views.filter { (try? outcomes[$0.item].get()) != nil }
        guard !views.isEmpty else { return }
        let size = classifier.crop
        do {
            let input = try Tensor(shape: [views.count, size, size, 3], values: views.flatMap(\.pixels))
            let logits = try classifier.model.forward(input).logits.toArray()
            let classes = classifier.model.numClasses
            for (row, view) in views.enumerated() {
                outcomes[view.item] = outcomes[view.item].map { $0 + [Array(logits[(row * classes)..<((row + 1) * classes)])] }
            }
        } catch {
            for view in views { outcomes[view.item] = .failure(error) }
        }
    }
}
