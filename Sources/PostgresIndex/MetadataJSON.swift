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
            appendString(key, to: &out)
            out += ":"
            switch metadata[key] {
            case .string(let s)?: appendString(s, to: &out)
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

    private static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
