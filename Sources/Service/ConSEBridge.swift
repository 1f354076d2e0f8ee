import Encoders
import Foundation
import Media
import Synchronization
import Tensor

/// Brings images into a text space through an ImageNet classifier and ConSE (DESIGN.md §3): decode, crop,
/// classify, then mix the text embeddings of the top-T class names by their probabilities (`ConSE`).
///
/// Class-name embeddings: every class name filled into every prompt template of labels.json ("a photo of a
/// {}." and the rest), embedded by the space's own text encoder, averaged per class (`ConSE.ensemble`).
/// They are computed once per text encoder — at load for the text models the server has, else on first
/// use — kept in memory and on disk beside the classifier (models/<id>/conse-cache/<key>.f32), keyed by
/// the classifier's fingerprint, the templates and a probe vector of the text encoder (so a changed text
/// model never reuses stale embeddings).
final class ConSEBridge: ModalityBridge {
    let modality: ModelDescription.Modality = .image
    let classifier: LoadedImageClassifier
    let preprocessing: ImagePreprocessing
    let conse: ConSE
    let maxImagePixels: Int
    let instructionPooling: InstructionPooling
    /// Side of each corner region, as a fraction of the image's (token views for instruction pooling).
    let regionFraction = 0.6
    /// Images per forward pass (bounds activation memory: ~5 MB per image at 224²).
    let maxBatch = 16
    private let classEmbeddings = Mutex<[String: [[Float]]]>([:])

    var name: String { "\(classifier.spec.id) (ConSE, top \(conse.topK), T=\(conse.temperature))" }

    init(classifier: LoadedImageClassifier, limits: ServiceLimits) {
        let spec = classifier.spec
        self.classifier = classifier
        preprocessing = ImagePreprocessing(resize: spec.resize, crop: spec.crop, mean: spec.mean, std: spec.std)
        conse = ConSE(topK: spec.topK, temperature: spec.temperature)
        maxImagePixels = limits.maxImagePixels
        instructionPooling = InstructionPooling(weight: spec.instructionPooling.weight, temperature: spec.instructionPooling.temperature)
    }

    func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding) -> [Result<EmbeddedVector, any Error>] {
        let pooling = TokenPooling(options)
        let classified = classify(media, regions: pooling != .native)
        guard classified.contains(where: { (try? $0.get()) != nil }) else { return classified.map { $0.map { _ in EmbeddedVector(values: []) } } }
        let table: [[Float]]
        let query: [Float]?
        do {
            table = try self.table(for: text)
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
        let size = classifier.spec.crop
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

    /// The class-name embeddings in `text`'s space: from memory, the disk cache, or computed now.
    func table(for text: any TextEncoding) throws -> [[Float]] {
        let key = try cacheKey(text)
        return try classEmbeddings.withLock { cache in
            if let table = cache[key] { return table }
            let table = try loadCached(key) ?? computeTable(text, key: key)
            cache[key] = table
            return table
        }
    }

    /// Embeds every (class, template) sentence and averages per class.
    private func computeTable(_ text: any TextEncoding, key: String) throws -> [[Float]] {
        let spec = classifier.spec
        var table: [[Float]] = []
        table.reserveCapacity(spec.classes.count)
        let perChunk = max(1, 512 / spec.templates.count)
        var start = 0
        while start < spec.classes.count {
            let classes = spec.classes[start..<min(start + perChunk, spec.classes.count)]
            let sentences = classes.flatMap { name in spec.templates.map { $0.replacingOccurrences(of: "{}", with: name) } }
            let vectors = try text.embed(texts: sentences, options: EmbeddingOptions()).map { try $0.get().values }
            for c in 0..<classes.count {
                table.append(ConSE.ensemble(Array(vectors[(c * spec.templates.count)..<((c + 1) * spec.templates.count)])))
            }
            start += perChunk
        }
        saveCached(table, key: key)
        return table
    }

    /// Classifier fingerprint + templates + a probe embedding of the text encoder, hashed (FNV-1a 64).
    private func cacheKey(_ text: any TextEncoding) throws -> String {
        let probe = try text.embed(texts: ["a photo of the rosetta stone."], options: EmbeddingOptions())[0].get().values
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        mix("conse-v1\0\(classifier.spec.fingerprint)\0\(classifier.spec.templates.joined(separator: "\n"))\0".utf8)
        // Rounded so that harmless float noise between runs does not change the key.
        for v in probe { withUnsafeBytes(of: Int32((v * 1e4).rounded())) { mix($0) } }
        return String(hash, radix: 16) + "-\(probe.count)d"
    }

    private func cacheFile(_ key: String) -> URL {
        classifier.spec.folder.appendingPathComponent("conse-cache").appendingPathComponent("\(key).f32")
    }

    private func loadCached(_ key: String) -> [[Float]]? {
        guard let dims = Int(key.split(separator: "-").last?.dropLast() ?? ""),
              let data = try? Data(contentsOf: cacheFile(key)),
              data.count == classifier.spec.classes.count * dims * 4 else { return nil }
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (0..<classifier.spec.classes.count).map { Array(floats[($0 * dims)..<(($0 + 1) * dims)]) }
    }

    /// Best effort: a read-only models folder only costs the recomputation on the next start.
    private func saveCached(_ table: [[Float]], key: String) {
        let url = cacheFile(key)
        let flat = table.flatMap { $0 }
        let data = flat.withUnsafeBufferPointer { Data(buffer: $0) }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: url, options: .atomic)
    }
}
