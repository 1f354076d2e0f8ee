import Index
import Logging
import PostgresNIO

/// Reads of the `rosetta_collections` catalog: each collection's spec, items table and count.
enum Catalog {
    struct Entry: Sendable {
        let table: CollectionTable
        let count: Int

        var info: CollectionInfo {
            CollectionInfo(spec: table.spec, count: count, vectorBytes: count * table.bytesPerVector)
        }
    }

    private static let columns =
        "table_id, name, model, dimensions, model_dimensions, metric, storage, space, created_unix_ms, item_count, "
        + "keep_previews"

    /// The collection's table and count; `lock` takes its catalog row FOR UPDATE (writers of one collection then
    /// run one after the other). Throws `collectionNotFound`.
    static func table(
        _ name: String, on connection: PostgresConnection, lock: Bool, logger: Logger
    ) async throws -> (CollectionTable, count: Int) {
        var bindings = PostgresBindings()
        bindings.append(name)
        let sql = "SELECT \(columns) FROM rosetta_collections WHERE name = $1" + (lock ? " FOR UPDATE" : "")
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await row in rows {
            let entry = try entry(row)
            return (entry.table, entry.count)
        }
        throw IndexError.collectionNotFound(name)
    }

    /// Every collection, by name.
    static func all(on connection: PostgresConnection, logger: Logger) async throws -> [Entry] {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns) FROM rosetta_collections ORDER BY name"), logger: logger)
        var entries: [Entry] = []
        for try await row in rows { entries.append(try entry(row)) }
        return entries
    }

    private static func entry(_ row: PostgresRow) throws -> Entry {
        let (tableID, name, model, dimensions, modelDimensions, metric, storage, space, created, count, keepPreviews) =
            try row.decode((Int64, String, String, Int32, Int32, String, String, String, Int64, Int64, Bool).self)
        guard let metric = Metric(rawValue: metric), let storage = Storage(rawValue: storage) else {
            throw IndexError.corrupt(
                path: "rosetta_collections", reason: "collection '\(name)' has metric '\(metric)' and storage '\(storage)'")
        }
        let spec = CollectionSpec(
            name: name, model: model, dimensions: Int(dimensions), modelDimensions: Int(modelDimensions), metric: metric,
            storage: storage, space: space, createdUnixMs: created, keepPreviews: keepPreviews)
        return Entry(table: CollectionTable(tableID: tableID, spec: spec), count: Int(count))
    }
}
