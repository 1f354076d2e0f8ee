import Foundation
import Index

extension PostgresIndex {
    /// Where the database is and how the index uses it; parsed from a URL
    /// `postgres://user[:password]@host[:port]/database[?option=value&...]`.
    ///
    /// URL options: `sslmode` (disable, prefer or require; default prefer), `pool_size` (connections per server,
    /// default 10), `timeout` (seconds to wait for the database before UNAVAILABLE, default 5), `hnsw_m`,
    /// `hnsw_ef_construction` (used when a collection is created) and `hnsw_ef_search` (every search).
    public struct Configuration: Sendable {
        public enum TLSMode: String, Sendable { case disable, prefer, require }

        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tls: TLSMode = .prefer
        public var poolSize = 10
        /// How long a call waits for the database (a connection, retries included) before failing UNAVAILABLE.
        public var timeout: Duration = .seconds(5)
        public var hnsw = HNSWOptions()
        public var maxCollections = 1_000
        /// Binary storage re-ranks max(k * binaryRerankFactor, binaryMinCandidates) Hamming candidates.
        public var binaryRerankFactor = 10
        public var binaryMinCandidates = 100

        public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
        }

        /// Parses `url`; the error says what is wrong with it.
        public init(url: String) throws(ConfigurationError) {
            guard let components = URLComponents(string: url), let scheme = components.scheme,
                  ["postgres", "postgresql"].contains(scheme.lowercased())
            else {
                throw ConfigurationError("'\(Self.redacted(url))' is not a postgres:// URL (postgres://user@host:port/database)")
            }
            guard let host = components.host, !host.isEmpty else { throw ConfigurationError("the URL has no host") }
            guard let user = components.user, !user.isEmpty else { throw ConfigurationError("the URL has no user name (postgres://user@host/database)") }
            let database = String(components.path.drop { $0 == "/" })
            guard !database.isEmpty else { throw ConfigurationError("the URL has no database name (postgres://user@host/database)") }
            self.init(host: host, port: components.port ?? 5432, username: user, password: components.password, database: database)
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: value) else {
                        throw ConfigurationError("sslmode '\(value)' is not one of disable, prefer, require")
                    }
                    tls = mode
                case "pool_size": poolSize = try Self.integer(item.name, value, in: 1...1000)
                case "timeout": timeout = .seconds(try Self.integer(item.name, value, in: 1...3600))
                case "hnsw_m": hnsw.m = try Self.integer(item.name, value, in: 2...100)
                case "hnsw_ef_construction": hnsw.efConstruction = try Self.integer(item.name, value, in: 4...1000)
                case "hnsw_ef_search": hnsw.efSearch = try Self.integer(item.name, value, in: 1...1000)
                default:
                    throw ConfigurationError(
                        "unknown URL option '\(item.name)' (known: sslmode, pool_size, timeout, hnsw_m, hnsw_ef_construction, hnsw_ef_search)")
                }
            }
            if let problem = hnsw.problem { throw ConfigurationError(problem) }
        }

        /// host:port/database, for messages (no password).
        public var location: String { "\(host):\(port)/\(database)" }

        private static func integer(_ name: String, _ value: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let n = Int(value), range.contains(n) else {
                throw ConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(value)'")
            }
            return n
        }

        /// `url` with any password replaced by ***.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? url
        }
    }

    public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
