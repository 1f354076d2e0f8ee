@testable import Service

/// An in-process stand-in for a text encoder: a deterministic vector per text (letter counts), and a
/// per-item failure for texts that start with "FAIL", so handlers can be tested with no model files.
struct FakeTextModel: TextModel {
    struct Failure: Error {}

    var description = ModelDescription(
        id: "fake-text", architecture: "fake", modalities: [.text], dimensions: 8, maxTokens: 16,
        space: "fake-space-1", defaultPooling: .mean, promptNames: ["query"], isDefault: true
    )

    func embed(_ texts: [String], options: TextEmbeddingOptions) -> [Result<TextVector, any Error>] {
        texts.map { text in
            if text.hasPrefix("FAIL") { return .failure(Failure()) }
            var values = [Float](repeating: 0, count: description.dimensions)
            for scalar in text.unicodeScalars {
                values[Int(scalar.value) % values.count] += 1
            }
            return .success(TextVector(values: values, tokens: text.split(separator: " ").count + 2, truncated: false))
        }
    }
}
