import Foundation
import RosettaAPI

/// A collection in `--json` output.
struct JSONCollection: Encodable {
    let name: String
    let model: String
    let dimensions: UInt32
    let metric: String
    let storage: String
    let space: String
    let count: UInt64
    let createdUnixMs: Int64
    let keepPreviews: Bool

    init(_ c: Rosetta_V1_Collection) {
        name = c.name
        model = c.model
        dimensions = c.dimensions
        metric = Self.name(c.metric)
        storage = Self.name(c.storage)
        space = c.space
        count = c.count
        createdUnixMs = c.createdUnixMs
        keepPreviews = c.keepPreviews
    }

    static func name(_ metric: Rosetta_V1_Metric) -> String { metric == .dot ? "dot" : "cosine" }

    static func name(_ storage: Rosetta_V1_Storage) -> String {
        switch storage {
        case .int8: "int8"
        case .binary: "binary"
        default: "float32"
        }
    }

    static func date(_ unixMs: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixMs) / 1000))
    }
}
