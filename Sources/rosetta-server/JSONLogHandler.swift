import Foundation
import Logging
import Synchronization

/// `--log-format json`: one JSON object per line on standard error, for log collectors. Keys: "timestamp"
/// (ISO 8601, UTC, milliseconds), "level", "label", "message", then the metadata (e.g. "request_id",
/// "method"), nested metadata as JSON objects and arrays.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let label: String

    /// One write per line, so lines from several threads never interleave.
    private static let output = Mutex(FileHandle.standardError)

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        let merged = metadata.merging(explicit ?? [:]) { _, new in new }
        let line = Self.line(timestamp: Date(), level: level, label: label, message: "\(message)", metadata: merged)
        Self.output.withLock { $0.write(Data(line.utf8)) }
    }

    static func line(
        timestamp: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var fields = [
            "\"timestamp\":" + quoted(timestamp.formatted(timestampStyle)),
            "\"level\":" + quoted(level.rawValue),
            "\"label\":" + quoted(label),
            "\"message\":" + quoted(message),
        ]
        for key in metadata.keys.sorted() where !["timestamp", "level", "label", "message"].contains(key) {
            if let value = metadata[key] { fields.append(quoted(key) + ":" + json(value)) }
        }
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): quoted(string)
        case .stringConvertible(let convertible): quoted(convertible.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.keys.sorted().compactMap { key in values[key].map { quoted(key) + ":" + json($0) } }
                .joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
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
        return out + "\""
    }
}
