import Foundation
import Synchronization

/// Where a server option gets its value when the command line does not give it: its ROSETTA_* environment
/// variable, then the config file (`--config FILE` or ROSETTA_CONFIG, JSON with the flags' names as keys), then
/// the built-in default. A flag on the command line wins over all three (the argument parser applies it).
///
/// Nothing here fails silently: a value that does not parse (ROSETTA_MAX_BATCH_ITEMS=lots), a config key that
/// no option asked for, or a config value of the wrong type is recorded, and `problems()` lists them so that the
/// server refuses to start with every one named.
public final class SettingSources: Sendable {
    public let configPath: String?
    private let environment: [String: String]
    private let file: [String: ConfigValue]
    private let found = Mutex<(problems: [String], asked: Set<String>)>(([], []))

    /// `arguments` are searched for `--config FILE` / `--config=FILE` (before the argument parser runs, since
    /// the file supplies the other options' defaults).
    public init(environment: [String: String], arguments: [String]) {
        self.environment = environment
        let path = Self.configArgument(arguments) ?? environment["ROSETTA_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        configPath = path
        var problems: [String] = []
        var file: [String: ConfigValue] = [:]
        if let path {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                file = try JSONDecoder().decode([String: ConfigValue].self, from: data)
            } catch let error as DecodingError {
                problems.append("config file \(path) is not a JSON object of option names to values: \(Self.reason(error))")
            } catch {
                problems.append("cannot read config file \(path): \(error.localizedDescription)")
            }
        }
        self.file = file
        found.withLock { $0.problems = problems }
    }

    /// "max-batch-items" -> "ROSETTA_MAX_BATCH_ITEMS".
    public static func environmentName(for key: String) -> String {
        "ROSETTA_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public func string(_ key: String) -> String? {
        lookup(key, type: "a string") { value in
            if case .string(let string) = value { return string }
            return nil
        } parse: { $0 }
    }

    public func string(_ key: String, default fallback: String) -> String { string(key) ?? fallback }

    public func int(_ key: String, default fallback: Int) -> Int {
        lookup(key, type: "a whole number") { value in
            if case .int(let int) = value { return int }
            return nil
        } parse: { Int($0) } ?? fallback
    }

    public func double(_ key: String, default fallback: Double) -> Double {
        lookup(key, type: "a number") { value in
            switch value {
            case .int(let int): Double(int)
            case .double(let double): double
            default: nil
            }
        } parse: { Double($0).flatMap { $0.isFinite ? $0 : nil } } ?? fallback
    }

    public func bool(_ key: String, default fallback: Bool) -> Bool {
        lookup(key, type: "true or false (1/0, yes/no)") { value in
            if case .bool(let bool) = value { return bool }
            return nil
        } parse: { text in
            switch text.lowercased() {
            case "1", "true", "yes": true
            case "0", "false", "no": false
            default: nil
            }
        } ?? fallback
    }

    /// A list: a JSON array of strings in the file, comma-separated in the environment.
    public func list(_ key: String, default fallback: [String]) -> [String] {
        lookup(key, type: "a list of strings") { value in
            guard case .list(let values) = value else {
                if case .string(let single) = value { return [single] }
                return nil
            }
            let strings = values.compactMap { value -> String? in
                if case .string(let string) = value { return string }
                return nil
            }
            return strings.count == values.count ? strings : nil
        } parse: { text in
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } ?? fallback
    }

    /// Everything wrong so far, and the config keys that no option asked for. Empty: all is well.
    public func problems() -> [String] {
        found.withLock { found in
            let unknown = Set(file.keys).subtracting(found.asked).sorted().map { key in
                "config file \(configPath ?? ""): unknown key '\(key)' (keys are the flags' names without '--', e.g. max-batch-items)"
            }
            return found.problems + unknown
        }
    }

    /// Environment first, then the file; a value that does not parse is a problem (and the fallback is used).
    private func lookup<T>(
        _ key: String, type: String, fromFile: (ConfigValue) -> T?, parse: (String) -> T?
    ) -> T? {
        found.withLock { _ = $0.asked.insert(key) }
        let name = Self.environmentName(for: key)
        if let text = environment[name], !text.isEmpty {
            if let value = parse(text) { return value }
            record("\(name)='\(text)' is not \(type)")
            return nil
        }
        guard let value = file[key] else { return nil }
        if let parsed = fromFile(value) { return parsed }
        record("config file \(configPath ?? ""): '\(key)' must be \(type), got \(value)")
        return nil
    }

    private func record(_ problem: String) {
        found.withLock { found in
            if !found.problems.contains(problem) { found.problems.append(problem) }
        }
    }

    static func configArgument(_ arguments: [String]) -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == "--config", i + 1 < arguments.count { return arguments[i + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }

    private static func reason(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at '\(path)': ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

/// A value in the config file.
public enum ConfigValue: Decodable, Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? container.decode(Int.self) {
            self = .int(int)
        } else if let double = try? container.decode(Double.self) {
            self = .double(double)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .list(try container.decode([ConfigValue].self))
        }
    }

    public var description: String {
        switch self {
        case .bool(let bool): "\(bool)"
        case .int(let int): "\(int)"
        case .double(let double): "\(double)"
        case .string(let string): "\"\(string)\""
        case .list(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
