import Domain
import Foundation
import Index

/// Item metadata as the jsonb documents of the `metadata` column: an object of strings and numbers.
enum MetadataJSON {
    /// A JSON object; numbers are written in their shortest round-tripping form (Swift's `description`), whole
    /// numbers below 2^53 without a fraction.
    static func encode(_ metadata: Metadata) -> String {
        var out = "{"
        for (i, key) in metadata.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            out += JSONString.quoted(key)
            out += ":"
            switch metadata[key] {
            case .string(let s)?: out += JSONString.quoted(s)
            case .number(let x)?: out += number(x)
            case nil: out += "null"
            }
        }
        return out + "}"
    }

    /// Parses a `metadata::text` value; anything but a string or a number fails.
    static func decode(_ text: String) throws -> Metadata {
        try JSONDecoder().decode([String: DecodedValue].self, from: Data(text.utf8)).mapValues(\.value)
    }

    private struct DecodedValue: Decodable {
        let value: MetadataValue
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let s = try? container.decode(String.self) {
                value = .string(s)
            } else {
                value = .number(try container.decode(Double.self))
            }
        }
    }

    private static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        return "\(x)"
    }
}
