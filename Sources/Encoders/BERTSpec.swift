import Domain
import Foundation

/// A BERT-family manifest entry resolved against its folder: every setting decided, every file located.
/// Built by `BERTSpec.resolve`; what `LoadedBERT` needs to load, and what Info reports.
public struct BERTSpec: Sendable, Equatable {
    public var id: String
    public var architecture: ModelManifest.Architecture
    public var folder: URL
    /// config.json
    public var config: URL
    /// model.safetensors
    public var weights: URL
    /// The folder holding tokenizer.json or vocab.txt (+ tokenizer_config.json).
    public var tokenizerDirectory: URL
    public var dimensions: Int
    /// Longest input in tokens, special tokens included.
    public var maxTokens: Int
    public var pooling: Pooling
    public var normalize: Bool
    /// Named prompt prefixes ("query" -> "query: ").
    public var prompts: [String: String]
    public var instructionTemplate: String
    public var isDefault: Bool
    /// sentence_bert_config.json `do_lower_case`: sentence-transformers lowercases the text before the
    /// tokenizer. Served only when the tokenizer lowercases anyway (checked at load).
    public var lowercasesInput: Bool
    /// `source.version`, or "local" for a hand-copied folder.
    public var version: String
    /// sha256 of the weights from the manifest, nil for a hand-copied folder without one.
    public var weightsSHA256: String?
    /// Names the embedding space: a stable hash of id, weights identity and version (`ModelRegistry.fingerprint`).
    public var fingerprint: String

    public var promptNames: [String] { prompts.keys.sorted() }

    /// The text the encoder sees: a named prompt's prefix, or a free instruction through the template.
    public func prompted(_ text: String, promptName: String) -> String? {
        prompts[promptName].map { $0 + text }
    }

    public func instructed(_ text: String, instruction: String) -> String {
        instructionTemplate.replacingOccurrences(of: "{instruction}", with: instruction)
            .replacingOccurrences(of: "{text}", with: text)
    }
}
