import Domain
import Encoders
import Foundation
import Synchronization

/// The class-name embeddings of an image classifier in a text space, for ConSE: every class name filled into
/// every prompt template of labels.json ("a photo of a {}." and the rest), embedded by the space's own text
/// encoder, averaged per class (`ConSE.ensemble`).
///
/// Computed once per text encoder (at load for the default text model, see `SpaceLoader`, else on first use),
/// kept in memory and on disk beside the classifier (models/<id>/conse-cache/<key>.f32, float32 rows), keyed
/// by the classifier's fingerprint, the templates and a probe vector of the text encoder, so a changed text
/// model never reuses stale embeddings. The disk copy is best effort: a read-only models folder only costs the
/// recomputation on the next start.
final class ClassNameTable: Sendable {
    let classifier: LoadedImageClassifier
    private let tables = Mutex<[String: [[Float]]]>([:])

    init(classifier: LoadedImageClassifier) {
        self.classifier = classifier
    }

    /// The class-name embeddings in `text`'s space, [classes][d]: from memory, the disk cache, or computed now.
    func table(for text: any TextEncoding) throws -> [[Float]] {
        let key = try cacheKey(text)
        return try tables.withLock { cache in
            if let table = cache[key] { return table }
            let table = try loadCached(key) ?? compute(text, key: key)
            cache[key] = table
            return table
        }
    }

    /// Embeds every (class, template) sentence and averages per class.
    private func compute(_ text: any TextEncoding, key: String) throws -> [[Float]] {
        let templates = classifier.templates
        var table: [[Float]] = []
        table.reserveCapacity(classifier.classes.count)
        let perChunk = max(1, 512 / templates.count)
        var start = 0
        while start < classifier.classes.count {
            let classes = classifier.classes[start..<min(start + perChunk, classifier.classes.count)]
            let sentences = classes.flatMap { name in templates.map { $0.replacingOccurrences(of: "{}", with: name) } }
            let vectors = try text.embed(texts: sentences, options: EmbeddingOptions()).map { try $0.get().values }
            for c in 0..<classes.count {
                table.append(ConSE.ensemble(Array(vectors[(c * templates.count)..<((c + 1) * templates.count)])))
            }
            start += perChunk
        }
        saveCached(table, key: key)
        return table
    }

    /// FNV-1a 64 of the classifier's fingerprint, the templates and a probe embedding of the text encoder.
    private func cacheKey(_ text: any TextEncoding) throws -> String {
        let probe = try text.embed(texts: ["a photo of the rosetta stone."], options: EmbeddingOptions())[0].get().values
        var hash = FNV1a("conse-v1\0\(classifier.fingerprint)\0\(classifier.templates.joined(separator: "\n"))\0".utf8)
        // Rounded so that harmless float noise between runs does not change the key.
        for v in probe { withUnsafeBytes(of: Int32((v * 1e4).rounded())) { hash.mix($0) } }
        return String(hash.value, radix: 16) + "-\(probe.count)d"
    }

    private func cacheFile(_ key: String) -> URL {
        classifier.folder.appendingPathComponent("conse-cache").appendingPathComponent("\(key).f32")
    }

    private func loadCached(_ key: String) -> [[Float]]? {
        guard let dims = Int(key.split(separator: "-").last?.dropLast() ?? ""),
              let data = try? Data(contentsOf: cacheFile(key)),
              data.count == classifier.classes.count * dims * 4 else { return nil }
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (0..<classifier.classes.count).map { Array(floats[($0 * dims)..<(($0 + 1) * dims)]) }
    }

    private func saveCached(_ table: [[Float]], key: String) {
        let url = cacheFile(key)
        let data = table.flatMap { $0 }.withUnsafeBufferPointer { Data(buffer: $0) }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: url, options: .atomic)
    }
}
