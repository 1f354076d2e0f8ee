import Foundation

/// Where and how the Hub is reached, read from the environment as huggingface_hub reads it (its `constants.py`),
/// so that a cache it filled is found and reused:
/// - `HF_ENDPOINT` (default https://huggingface.co);
/// - `HF_TOKEN`, else the file `HF_TOKEN_PATH` (default `$HF_HOME/token`), sent as a bearer token to the endpoint only;
/// - `HF_HUB_OFFLINE` (1/true/yes/on): no network, the cache only;
/// - `HF_HUB_CACHE` (or the older `HUGGINGFACE_HUB_CACHE`), default `$HF_HOME/hub`, where `HF_HOME` defaults to
///   `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
public struct HubSettings: Sendable, Equatable {
    public var endpoint: URL
    public var token: String?
    public var offline: Bool
    public var cacheDirectory: URL

    public init(endpoint: URL, token: String?, offline: Bool, cacheDirectory: URL) {
        self.endpoint = endpoint
        self.token = token
        self.offline = offline
        self.cacheDirectory = cacheDirectory
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(HubError) -> HubSettings {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        let endpointText = value("HF_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "https://huggingface.co"
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme, ["http", "https"].contains(scheme),
              endpoint.host != nil else {
            throw .invalidReference("HF_ENDPOINT '\(endpointText)' is not an http(s) URL")
        }
        let home = value("HF_HOME").map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: value("XDG_CACHE_HOME") ?? (NSHomeDirectory() + "/.cache")).appendingPathComponent("huggingface")
        let cache = (value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE")).map { URL(fileURLWithPath: $0) }
            ?? home.appendingPathComponent("hub")
        var token = value("HF_TOKEN")
        if token == nil {
            let tokenFile = value("HF_TOKEN_PATH").map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent("token")
            token = (try? String(contentsOf: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if token?.isEmpty == true { token = nil }
        }
        let offline = ["1", "on", "yes", "true"].contains(value("HF_HUB_OFFLINE")?.lowercased() ?? "")
        return HubSettings(endpoint: endpoint, token: token, offline: offline, cacheDirectory: cache)
    }
}
