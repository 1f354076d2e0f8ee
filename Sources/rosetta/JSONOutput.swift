import Foundation
import RPC
import RosettaAPI

/// The `--json` documents (README "Scripting with --json"): one compact JSON object on stdout, keys in
/// snake_case and sorted. Fields are only ever added, never renamed or removed.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A metadata value as JSON: a string or a number.
enum JSONMetadataValue: Encodable, Equatable {
    case string(String)
    case number(Double)

    init(_ value: Rosetta_V1_MetadataValue) {
        switch value.kind {
        case .numberValue(let number): self = .number(number)
        case .stringValue(let string): self = .string(string)
        case nil: self = .string("")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let string): try container.encode(string)
        case .number(let number): try container.encode(number)
        }
    }

    /// As shown in a table cell.
    var text: String {
        switch self {
        case .string(let string): string
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        }
    }
}

extension Dictionary where Key == String, Value == Rosetta_V1_MetadataValue {
    var json: [String: JSONMetadataValue] { mapValues(JSONMetadataValue.init) }
}

/// A per-item failure: `{"code": "INVALID_ARGUMENT", "message": "..."}` (the canonical gRPC code name).
struct JSONError: Encodable {
    let code: String
    let message: String

    init(_ status: Rosetta_V1_ItemStatus) {
        let code = RPCStatus.Code(rawValue: status.code) ?? .unknown
        self.code = code.canonicalName
        self.message = status.message
    }
}

/// Server-side cost of a call, in the units people read.
struct JSONUsage: Encodable {
    let tokens: UInt64
    let items: UInt64
    let queueMs: Double
    let computeMs: Double

    init(_ usage: Rosetta_V1_Usage) {
        tokens = usage.tokens
        items = usage.items
        queueMs = Double(usage.queueTimeNs) / 1e6
        computeMs = Double(usage.computeTimeNs) / 1e6
    }
}

extension RPCStatus.Code {
    /// OK, INVALID_ARGUMENT, NOT_FOUND, ... as grpc spells them.
    var canonicalName: String {
        String(describing: self).reduce(into: "") { name, character in
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
    }
}
