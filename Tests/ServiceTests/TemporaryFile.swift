import Foundation

/// Writes `text` to a new file in the temporary directory; returns its path (for files the server reads).
func temporaryFile(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rosetta-\(UUID().uuidString)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
