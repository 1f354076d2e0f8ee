import Foundation
import Domain
import Index
import PostgresNIO

/// Statements and row decoding for the items of a collection table.
enum ItemRows {
    /// Rows per INSERT (4 or 5 bind values each, far below PostgreSQL's 65,535).
    static let rowsPerStatement = 500

    /// The items to write: the last one of each id (as the in-memory index applies them in order), checked for
    /// what PostgreSQL text cannot hold and for the preview byte cap.
    static func checked(_ items: [IndexItem]) throws(IndexError) -> [IndexItem] {
        var lastPosition: [String: Int] = [:]
        for (position, item) in items.enumerated() {
            lastPosition[item.id] = position
            if let preview = item.preview, preview.byteCount > Preview.maxBytes {
                throw .invalidItem("item '\(item.id)' has a preview of \(preview.byteCount) bytes, over \(Preview.maxBytes)")
            }
            if item.id.utf8.contains(0) {
                throw .invalidItem("item id '\(item.id.replacingNUL)' has a NUL character, which PostgreSQL text cannot hold")
            }
            for (key, value) in item.metadata {
                if key.utf8.contains(0) || (value.string?.utf8.contains(0) ?? false) {
                    throw .invalidItem("item '\(item.id)': metadata '\(key.replacingNUL)' has a NUL character, which PostgreSQL text cannot hold")
                }
            }
        }
        return items.enumerated().filter { lastPosition[$0.element.id] == $0.offset }.map(\.element)
    }

    /// INSERT ... ON CONFLICT DO UPDATE for `items` (distinct ids), answering how many were new.
    static func upsert(_ items: ArraySlice<IndexItem>, into table: CollectionTable) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: items.count * 4)
        var rows: [String] = []
        rows.reserveCapacity(items.count)
        for item in items {
            let n = bindings.count
            bindings.append(item.id)
            bindings.append(item.vector)
            bindings.append(MetadataJSON.encode(item.metadata))
            bindings.append(Int16(item.modality.rawValue))
            if table.spec.keepPreviews {
                if let preview = item.preview {
                    try bindings.append(Data(try preview.encoded()))
                } else {
                    bindings.appendNull()
                }
                rows.append("($\(n + 1), \(table.vector("$\(n + 2)")), $\(n + 3)::jsonb, $\(n + 4), $\(n + 5))")
            } else {
                rows.append("($\(n + 1), \(table.vector("$\(n + 2)")), $\(n + 3)::jsonb, $\(n + 4))")
            }
        }
        let preview: (column: String, update: String) =
            table.spec.keepPreviews ? (", preview", ", preview = EXCLUDED.preview") : ("", "")
        let sql = """
            WITH written AS (
                INSERT INTO \(table.table) (id, embedding, metadata, modality\(preview.column)) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata,
                    modality = EXCLUDED.modality\(preview.update)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted) FROM written
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func select(
        _ ids: [String], from table: CollectionTable, includeVectors: Bool, includePreviews: Bool
    ) -> PostgresQuery {
        var bindings = PostgresBindings()
        bindings.append(ids)
        let vector = includeVectors ? ", embedding::real[]" : ""
        let preview = includePreviews && table.spec.keepPreviews ? ", preview" : ""
        return PostgresQuery(
            unsafeSQL: "SELECT id, metadata::text, modality\(vector)\(preview) FROM \(table.table) WHERE id = ANY($1::text[])",
            binds: bindings)
    }

    /// A row of `select`.
    static func storedItem(_ row: PostgresRow, includeVectors: Bool, includePreviews: Bool) throws -> StoredItem {
        var columns = row.makeIterator()
        let id = try columns.next()?.decode(String.self)
        let metadata = try columns.next()?.decode(String.self)
        let modality = try columns.next()?.decode(Int16.self)
        let vector = includeVectors ? try columns.next()?.decode([Float].self) : nil
        let preview = includePreviews ? try Self.preview(columns.next()) : nil
        guard let id, let metadata, let modality else { throw IndexError.backend("an item row has too few columns") }
        return StoredItem(id: id, metadata: try MetadataJSON.decode(metadata), modality: try Self.modality(modality), vector: vector,
                          preview: preview)
    }

    /// The `preview` column (NULL: none).
    static func preview(_ cell: PostgresCell?) throws -> Preview? {
        guard let bytes = try cell?.decode(Data?.self) else { return nil }
        return try Preview(encoded: Array(bytes), origin: "a preview column")
    }

    static func modality(_ code: Int16) throws -> Modality {
        guard let modality = Modality(rawValue: UInt8(clamping: code)) else {
            throw IndexError.backend("an item has modality \(code), which this server does not know")
        }
        return modality
    }
}

extension PostgresBindings {
    mutating func append(_ value: SQLValue) {
        switch value {
        case .text(let s), .json(let s): append(s)
        case .double(let x): append(x)
        case .smallints(let codes): append(codes)
        }
    }
}

extension MetadataValue {
    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

extension String {
    /// For messages: NUL characters shown as \0.
    var replacingNUL: String { unicodeScalars.map { $0 == "\0" ? "\\0" : String($0) }.joined() }
}
