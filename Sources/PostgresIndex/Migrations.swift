import Index
import Logging
import PostgresNIO

/// The database schema, versioned: `rosetta_schema_version` holds the versions applied, and every server runs the
/// missing steps at start, in one transaction under an advisory lock (so replicas starting together apply each
/// step once). A step is never edited after it ships; a change is a new step.
enum Migrations {
    /// Key of the advisory lock that serialises schema changes and collection creation across servers.
    static let lockKey: Int64 = 0x526F_7365_7474_61  // "Rosetta"

    static let steps: [(version: Int, statements: [String])] = [
        (1, [
            "CREATE EXTENSION IF NOT EXISTS vector",
            """
            CREATE TABLE rosetta_collections (
                name text PRIMARY KEY,
                table_id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                model text NOT NULL,
                dimensions integer NOT NULL,
                model_dimensions integer NOT NULL,
                metric text NOT NULL,
                storage text NOT NULL,
                space text NOT NULL,
                created_unix_ms bigint NOT NULL,
                item_count bigint NOT NULL DEFAULT 0,
                hnsw_m integer NOT NULL,
                hnsw_ef_construction integer NOT NULL
            )
            """,
        ]),
        // Collections that keep previews (CollectionSpec.keepPreviews); their items tables are created with a
        // `preview` column (CollectionTable), so the tables of existing collections, which keep none, stay as
        // they are.
        (2, ["ALTER TABLE rosetta_collections ADD COLUMN keep_previews boolean NOT NULL DEFAULT false"]),
    ]

    static var latest: Int { steps.map(\.version).max() ?? 0 }

    /// Brings the schema to `latest`; returns the version found and the version now.
    static func run(on connection: PostgresConnection, logger: Logger) async throws -> (found: Int, now: Int) {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS rosetta_schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var found = 0
            for try await version in try await connection.query(
                "SELECT COALESCE(max(version), 0) FROM rosetta_schema_version", logger: logger
            ).decode(Int.self) {
                found = version
            }
            guard found <= latest else {
                throw IndexError.corrupt(
                    path: "rosetta_schema_version",
                    reason: "the database has schema version \(found), newer than this server's \(latest): upgrade the server")
            }
            for step in steps where step.version > found {
                for statement in step.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO rosetta_schema_version (version) VALUES (\(step.version))", logger: logger)
            }
            return (found, max(found, latest))
        }
    }
}
