import Foundation

/// Paths of the committed fixtures (Tests/Fixtures) and of fetched models (models/), found from this file.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let root = repoRoot.appendingPathComponent("Tests/Fixtures")
    static let miniLMVocab = root.appendingPathComponent("all-minilm-l6-v2")
    static let tinyCased = root.appendingPathComponent("tokenizer/tiny-cased")
    /// Present only after `models/fetch`.
    static let fetchedMiniLM = repoRoot.appendingPathComponent("models/all-minilm-l6-v2")

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
