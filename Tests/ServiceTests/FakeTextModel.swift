@testable import Service
import Spaces

/// An in-process stand-in for a text encoder: a deterministic vector per text (letter counts), and a
/// per-item failure for texts that start with "FAIL", so handlers can be tested with no model files.
struct FakeTextModel: EmbeddingSpace {
    struct Failure: Error {}

    var description = SpaceDescription(
        id: "fake-text", architecture: "fake", modalities: [.text], dimensions: 8, maxTokens: 16,
        space: "fake-space-1", defaultPooling: .mean, promptNames: ["query"], isDefault: true, takesInstructions: true
    )

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        inputs.map { input in
            guard case .text(let text) = input, !text.hasPrefix("FAIL") else { return .failure(Failure()) }
            var values = [Float](repeating: 0, count: description.dimensions)
            for scalar in text.unicodeScalars {
                values[Int(scalar.value) % values.count] += 1
            }
            return .success(EmbeddedVector(values: values, tokens: text.split(separator: " ").count + 2))
        }
    }
}
