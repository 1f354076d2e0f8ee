import Foundation
import Tensor
import TestSupport

/// Paths and helpers shared by the encoder tests.
enum Fixtures {
    static let fixtures = RepositoryPaths.fixtures
    static let tinyBERT = fixtures.appendingPathComponent("tiny-bert")

    static func json(_ url: URL) throws -> Any {
        try JSONSerialization.jsonObject(with: try Data(contentsOf: url))
    }

    /// Writes F32 tensors as a safetensors file (for strict-loading tests); returns its path.
    static func writeSafeTensors(_ tensors: [(name: String, shape: [Int], values: [Float])]) throws -> String {
        var header: [String: Any] = [:]
        var data: [UInt8] = []
        for t in tensors {
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [data.count, data.count + 4 * t.values.count]]
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        }
        var headerBytes = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var length = UInt64(headerBytes.count).littleEndian
        var bytes: [UInt8] = []
        withUnsafeBytes(of: &length) { bytes += $0 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rosetta-bert-\(UUID().uuidString).safetensors").path
        try Data(bytes + headerBytes + data).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// All tensors of a safetensors file as (name, shape, values).
    static func readAll(_ file: SafeTensors) throws -> [(name: String, shape: [Int], values: [Float])] {
        try file.names.map { ($0, try file.entry($0).shape, try file.tensor($0).toArray()) }
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
