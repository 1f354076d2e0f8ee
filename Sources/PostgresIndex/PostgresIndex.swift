import Index
import Logging
import PostgresNIO

/// The `VectorIndex` on PostgreSQL + pgvector: several servers can share one database (stateless replicas), and
/// the database brings replication, backups and memory beyond one machine.
///
/// Layout: the catalog table `rosetta_collections` (each collection's spec, embedding-space fingerprint, item
/// count and HNSW build options) and one items table per collection (`CollectionTable`), created by versioned
/// `Migrations`. Every call reads the catalog, so a collection created or deleted through one server is seen
/// by all at once. Writes run in one transaction each and lock their collection's catalog row, so the writes
/// to one collection are serialised (and its count stays exact); searches take no locks.
///
/// Search is approximate where a collection has an HNSW index (`HNSWOptions`; pgvector's iterative scan keeps
/// filtered searches at k hits), exact otherwise. When the database cannot be reached within the configured
/// timeout, calls fail with `IndexError.unavailable`, and work again as soon as it is back.
public final class PostgresIndex: VectorIndex {
    public let configuration: Configuration
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>

    /// Connects, and brings the schema to the current version. Throws `unavailable` when the database cannot be
    /// reached within the timeout.
    public static func open(_ configuration: Configuration, logger: Logger) async throws(IndexError) -> PostgresIndex {
        let index = PostgresIndex(configuration, logger: logger)
        do {
            let versions = try await index.perform("prepare the schema") { connection in
                try await Migrations.run(on: connection, logger: logger)
            }
            logger.info("index database ready", metadata: [
                "database": "\(configuration.location)", "schema-version": "\(versions.now)",
                "migrated-from": "\(versions.found)",
            ])
        } catch {
            index.close()
            throw error
        }
        return index
    }

    private init(_ configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var settings = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: Self.tls(configuration.tls))
        settings.options.maximumConnections = configuration.poolSize
        settings.options.connectTimeout = configuration.timeout
        // Every connection searches with these (one round trip per search, no SET).
        settings.options.additionalStartupParameters = [
            ("options", "-c hnsw.ef_search=\(configuration.hnsw.efSearch) -c hnsw.iterative_scan=strict_order"),
        ]
        // The pool logs every failed connection attempt at info; a database outage is reported once per call
        // instead (`perform`), so the pool keeps to notices and above.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .notice)
        let client = PostgresClient(configuration: settings, backgroundLogger: poolLogger)
        self.client = client
        // Detached: the pool must outlive graceful shutdown (calls still drain) and stops only in `close`.
        running = Task.detached { await client.run() }
    }

    private static func tls(_ mode: Configuration.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    /// Closes the connections; later calls fail.
    public func close() {
        running.cancel()
    }

    deinit { running.cancel() }

    // MARK: Collections

    public func createCollection(_ spec: CollectionSpec) async throws(IndexError) -> CollectionInfo {
        if let problem = CollectionSpec.problem(withName: spec.name) {
            throw .invalidCollectionName(spec.name, reason: problem)
        }
        guard spec.dimensions > 0 else { throw .invalidVector("a collection needs at least one dimension") }
        let hnsw = configuration.hnsw
        let maxCollections = configuration.maxCollections
        let logger = logger
        let table = try await perform("create collection '\(spec.name)'") { connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Migrations.lockKey))", logger: logger)
                let count = try await connection.scalar("SELECT count(*) FROM rosetta_collections", as: Int.self, logger: logger) ?? 0
                guard count < maxCollections else { throw IndexError.tooManyCollections(limit: maxCollections) }
                let inserted = try await connection.scalar(
                    """
                    INSERT INTO rosetta_collections (name, model, dimensions, model_dimensions, metric, storage, space,
                        created_unix_ms, hnsw_m, hnsw_ef_construction, keep_previews)
                    VALUES (\(spec.name), \(spec.model), \(spec.dimensions), \(spec.modelDimensions), \(spec.metric.rawValue),
                        \(spec.storage.rawValue), \(spec.space), \(spec.createdUnixMs), \(hnsw.m), \(hnsw.efConstruction),
                        \(spec.keepPreviews))
                    ON CONFLICT (name) DO NOTHING RETURNING table_id
                    """, as: Int64.self, logger: logger)
                guard let tableID = inserted else { throw IndexError.collectionExists(spec.name) }
                let table = CollectionTable(tableID: tableID, spec: spec)
                for statement in table.createStatements(hnsw: hnsw) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                return table
            }
        }
        if !table.hasHNSW {
            logger.notice("collection searched exactly: over pgvector's HNSW dimension limit", metadata: [
                "collection": "\(spec.name)", "dimensions": "\(spec.dimensions)",
                "limit": "\(CollectionTable.hnswLimits[spec.storage, default: 0])",
            ])
        }
        return CollectionInfo(spec: spec, count: 0, vectorBytes: 0)
    }

    public func deleteCollection(_ name: String) async throws(IndexError) {
        let logger = logger
        try await perform("delete collection '\(name)'", collection: name) { connection in
            try await connection.withTransaction(logger: logger) { connection in
                let (table, _) = try await Catalog.table(name, on: connection, lock: true, logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(table.table)"), logger: logger)
                try await connection.query("DELETE FROM rosetta_collections WHERE name = \(name)", logger: logger)
            }
        }
    }

    public func listCollections() async throws(IndexError) -> [CollectionInfo] {
        let logger = logger
        return try await perform("list collections") { connection in
            try await Catalog.all(on: connection, logger: logger).map(\.info)
        }
    }

    public func collection(_ name: String) async throws(IndexError) -> CollectionInfo {
        let logger = logger
        return try await perform("read collection '\(name)'", collection: name) { connection in
            let (table, count) = try await Catalog.table(name, on: connection, lock: false, logger: logger)
            return Catalog.Entry(table: table, count: count).info
        }
    }

    // MARK: Items

    public func upsert(_ items: [IndexItem], into collection: String) async throws(IndexError) {
        let latest = try ItemRows.checked(items)
        guard !latest.isEmpty else { return }
        let logger = logger
        try await perform("upsert into '\(collection)'", collection: collection) { connection in
            try await connection.withTransaction(logger: logger) { connection in
                let (table, _) = try await Catalog.table(collection, on: connection, lock: true, logger: logger)
                for item in latest where item.vector.count != table.spec.dimensions {
                    throw IndexError.dimensionMismatch(collection: collection, expected: [table.spec.dimensions], actual: item.vector.count)
                }
                var inserted = 0
                for start in stride(from: 0, to: latest.count, by: ItemRows.rowsPerStatement) {
                    let chunk = latest[start ..< min(start + ItemRows.rowsPerStatement, latest.count)]
                    inserted += try await connection.scalar(ItemRows.upsert(chunk, into: table), as: Int.self, logger: logger) ?? 0
                }
                try await connection.query(
                    "UPDATE rosetta_collections SET item_count = item_count + \(inserted) WHERE table_id = \(table.tableID)",
                    logger: logger)
            }
        }
    }

    public func delete(ids: [String], from collection: String) async throws(IndexError) -> Int {
        try await deleteRows(from: collection) { table in
            var bindings = PostgresBindings()
            bindings.append(ids)
            return PostgresQuery(unsafeSQL: "DELETE FROM \(table.table) WHERE id = ANY($1::text[])", binds: bindings)
        }
    }

    public func delete(matching filter: Filter, from collection: String) async throws(IndexError) -> Int {
        try await deleteRows(from: collection) { table in
            let condition = SQLFilterBuilder.condition(filter: filter, modalities: [], firstParameter: 1)
            var bindings = PostgresBindings()
            condition?.values.forEach { bindings.append($0) }
            return PostgresQuery(unsafeSQL: "DELETE FROM \(table.table) WHERE \(condition?.sql ?? "TRUE")", binds: bindings)
        }
    }

    /// Runs the DELETE `statement` makes for the collection's table, in a transaction that also updates the
    /// count; returns how many rows it deleted.
    private func deleteRows(
        from collection: String, _ statement: @escaping @Sendable (CollectionTable) -> PostgresQuery
    ) async throws(IndexError) -> Int {
        let logger = logger
        return try await perform("delete from '\(collection)'", collection: collection) { connection in
            try await connection.withTransaction(logger: logger) { connection in
                let (table, _) = try await Catalog.table(collection, on: connection, lock: true, logger: logger)
                var delete = statement(table)
                delete.sql = "WITH deleted AS (\(delete.sql) RETURNING 1) SELECT count(*) FROM deleted"
                let deleted = try await connection.scalar(delete, as: Int.self, logger: logger) ?? 0
                if deleted > 0 {
                    try await connection.query(
                        "UPDATE rosetta_collections SET item_count = item_count - \(deleted) WHERE table_id = \(table.tableID)",
                        logger: logger)
                }
                return deleted
            }
        }
    }

    public func get(ids: [String], from collection: String, includeVectors: Bool, includePreviews: Bool) async throws(IndexError)
        -> (items: [StoredItem], missing: [String])
    {
        let logger = logger
        return try await perform("read items of '\(collection)'", collection: collection) { connection in
            let (table, _) = try await Catalog.table(collection, on: connection, lock: false, logger: logger)
            var found: [String: StoredItem] = [:]
            for try await row in try await connection.query(ItemRows.select(ids, from: table, includeVectors: includeVectors, includePreviews: includePreviews), logger: logger) {
                let item = try ItemRows.storedItem(row, includeVectors: includeVectors, includePreviews: includePreviews && table.spec.keepPreviews)
                found[item.id] = item
            }
            var items: [StoredItem] = []
            var missing: [String] = []
            for id in ids {
                if let item = found[id] { items.append(item) } else { missing.append(id) }
            }
            return (items, missing)
        }
    }

    public func search(_ queries: [SearchQuery], in collection: String) async throws(IndexError) -> [[SearchHit]] {
        let logger = logger
        let rerank = (factor: configuration.binaryRerankFactor, minimum: configuration.binaryMinCandidates)
        return try await perform("search '\(collection)'", collection: collection) { connection in
            let (table, _) = try await Catalog.table(collection, on: connection, lock: false, logger: logger)
            var results: [[SearchHit]] = []
            for query in queries {
                guard query.vector.count == table.spec.dimensions else {
                    throw IndexError.dimensionMismatch(collection: collection, expected: [table.spec.dimensions], actual: query.vector.count)
                }
                let candidates = max(query.topK * rerank.factor, rerank.minimum)
                var hits: [SearchHit] = []
                for try await row in try await connection.query(
                    SearchSQL.query(query, in: table, binaryCandidates: candidates), logger: logger
                ) {
                    hits.append(try SearchSQL.hit(row, includeVector: query.includeVectors,
                                                  includePreview: query.includePreviews && table.spec.keepPreviews))
                }
                results.append(hits)
            }
            return results
        }
    }
}

extension PostgresConnection {
    /// The first column of the first row `query` returns, or nil when it returns none.
    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type, logger: Logger) async throws -> T? {
        var value: T?
        for try await row in try await self.query(query, logger: logger) where value == nil {
            value = try row.decode(T.self)
        }
        return value
    }
}
