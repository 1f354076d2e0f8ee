import Index
import PostgresNIO

/// The SELECT for one search query. Scores are inner products (`-(embedding <#> q)`); the ORDER BY uses the
/// operator the collection's HNSW index serves, so the planner can use it (an index scan, or a sequential scan and
/// sort when there is no index). The filter (`SQLFilterBuilder`) is a WHERE clause, applied before the limit
/// (pgvector's iterative scan keeps going until k rows pass it). min_score applies to the top k, after the limit.
///
/// Binary storage: the index orders by Hamming distance of the sign bits; the closest `binaryCandidates` are
/// re-ranked by their halfvec inner product.
enum SearchSQL {
    static func query(_ query: SearchQuery, in table: CollectionTable, binaryCandidates: Int) -> PostgresQuery {
        var bindings = PostgresBindings()
        bindings.append(query.vector)
        bindings.append(query.topK)
        let q = table.vector("$1")
        let condition = SQLFilterBuilder.condition(filter: query.filter, modalities: query.modalities, firstParameter: 3)
        condition?.values.forEach { bindings.append($0) }
        let whereClause = condition.map { "WHERE \($0.sql)" } ?? ""
        let previews = query.includePreviews && table.spec.keepPreviews
        let vectorColumn = (query.includeVectors ? ", embedding::real[] AS vector" : "") + (previews ? ", preview" : "")
        let inner: String
        if table.spec.storage == .binary {
            bindings.append(max(binaryCandidates, query.topK))
            let candidates = "$\(bindings.count)"
            inner = """
                SELECT id, metadata, modality, -(embedding <#> \(q)) AS score\(vectorColumn) FROM (
                    SELECT id, metadata, modality, embedding\(previews ? ", preview" : "") FROM \(table.table) \(whereClause)
                    ORDER BY \(table.signBits("embedding")) <~> \(table.signBits(q)) LIMIT \(candidates)
                ) candidates ORDER BY score DESC LIMIT $2
                """
        } else {
            inner = """
                SELECT id, metadata, modality, -(embedding <#> \(q)) AS score\(vectorColumn) FROM \(table.table) \(whereClause)
                ORDER BY embedding <#> \(q) LIMIT $2
                """
        }
        var outer = "SELECT id, metadata::text, modality, score\(query.includeVectors ? ", vector" : "")\(previews ? ", preview" : "") FROM (\(inner)) hits"
        if let minScore = query.minScore {
            bindings.append(Double(minScore))
            outer += " WHERE score >= $\(bindings.count)::float8"
        }
        return PostgresQuery(unsafeSQL: outer + " ORDER BY score DESC", binds: bindings)
    }

    /// A row of `query`.
    static func hit(_ row: PostgresRow, includeVector: Bool, includePreview: Bool) throws -> SearchHit {
        var columns = row.makeIterator()
        let id = try columns.next()?.decode(String.self)
        let metadata = try columns.next()?.decode(String.self)
        let modality = try columns.next()?.decode(Int16.self)
        let score = try columns.next()?.decode(Double.self)
        let vector = includeVector ? try columns.next()?.decode([Float].self) : nil
        let preview = includePreview ? try ItemRows.preview(columns.next()) : nil
        guard let id, let metadata, let modality, let score else { throw IndexError.backend("a search row has too few columns") }
        return SearchHit(
            id: id, score: Float(score), metadata: try MetadataJSON.decode(metadata), modality: try ItemRows.modality(modality),
            vector: vector, preview: preview)
    }
}
