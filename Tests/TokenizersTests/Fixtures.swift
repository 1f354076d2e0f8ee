import Foundation
import TestSupport

/// Paths of the committed fixtures (Tests/Fixtures) and of fetched models (models/).
enum Fixtures {
    static let root = RepositoryPaths.fixtures
    static let miniLMVocab = root.appendingPathComponent("all-minilm-l6-v2")
    static let tinyCased = root.appendingPathComponent("tokenizer/tiny-cased")
    /// Present only after `models/fetch`.
    static let fetchedMiniLM = RepositoryPaths.models.appendingPathComponent("all-minilm-l6-v2")

    struct Case: Decodable { let name: String; let text: String; let ids: [Int32]; let tokens: [String] }
    struct TruncationCase: Decodable {
        let name: String; let text: String; let max_tokens: Int; let direction: String; let ids: [Int32]
    }
    struct File: Decodable { let model: String; let cases: [Case]; let truncation: [TruncationCase] }

    static func cases(_ name: String) throws -> File {
        let data = try Data(contentsOf: root.appendingPathComponent("tokenizer/\(name).json"))
        return try JSONDecoder().decode(File.self, from: data)
    }
}
