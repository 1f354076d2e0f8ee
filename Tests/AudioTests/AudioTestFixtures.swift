import Foundation

enum AudioTestFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let audio = root.appendingPathComponent("Tests/Fixtures/audio")

    static func data(_ relative: String) throws -> Data { try Data(contentsOf: audio.appendingPathComponent(relative)) }

    static func goldenJSON() throws -> [String: Any] {
        let url = root.appendingPathComponent("Tests/Fixtures/whisper-tiny-en/golden.json")
        return try JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as! [String: Any]
    }
}
