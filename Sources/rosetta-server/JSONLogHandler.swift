import Foundation
import Domain
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
            "\"timestamp\":" + JSONString.quoted(timestamp.formatted(timestampStyle)),
            "\"level\":" + JSONString.quoted(level.rawValue),
            "\"label\":" + JSONString.quoted(label),
            "\"message\":" + JSONString.quoted(message),
        ]
        for key in metadata.keys.sorted() where !["timestamp", "level", "label", "message"].contains(key) {
            if let value = metadata[key] { fields.append(JSONString.quoted(key) + ":" + json(value)) }
        }
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): JSONString.quoted(string)
        case .stringConvertible(let convertible): JSONString.quoted(convertible.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.keys.sorted().compactMap { key in values[key].map { JSONString.quoted(key) + ":" + json($0) } }
                .joined(separator: ",") + "}"
        }
    }
}
