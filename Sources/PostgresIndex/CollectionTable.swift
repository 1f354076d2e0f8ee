import Foundation
import Index

/// How one collection is laid out in PostgreSQL: its items table (named by the catalog's numeric table id, since
/// collection names may be longer than PostgreSQL's 63-byte identifiers), the column type for its storage, and
/// the indexes built at creation.
///
/// Storage mapping: float32 -> `vector(d)` (4 bytes a value); int8 -> `halfvec(d)` (2 bytes a value: pgvector
/// has no int8 vector type, and half precision is closer to the float values than int8 codes); binary ->
/// `halfvec(d)` for the re-rank plus an HNSW index over `binary_quantize(embedding)::bit(d)` (d / 8 bytes a
/// vector) searched by Hamming distance. All metrics rank by inner product (`<#>`): cosine collections hold
/// unit vectors, so it ranks as cosine does.
struct CollectionTable: Sendable, Equatable {
    let tableID: Int64
    let spec: CollectionSpec

    /// pgvector's HNSW limits: 2,000 dimensions for vector, 4,000 for halfvec, 64,000 for bit. Longer vectors are
    /// searched exactly (a sequential scan).
    static let hnswLimits: [Storage: Int] = [.float32: 2_000, .int8: 4_000, .binary: 64_000]

    /// Quoted identifier of the items table (built from a number: nothing from a client is ever spliced in).
    var table: String { Self.quoted("rosetta_items_\(tableID)") }

    var columnType: String {
        switch spec.storage {
        case .float32: "vector(\(spec.dimensions))"
        case .int8, .binary: "halfvec(\(spec.dimensions))"
        }
    }

    /// The placeholder `$n` as a vector of the column's type (bound as a float4[] array).
    func vector(_ placeholder: String) -> String { "\(placeholder)::real[]::\(columnType)" }

    /// The sign bits of a vector expression, as indexed for binary storage.
    func signBits(_ expression: String) -> String { "binary_quantize(\(expression))::bit(\(spec.dimensions))" }

    var hasHNSW: Bool { spec.dimensions <= Self.hnswLimits[spec.storage, default: 0] }

    /// Bytes of one stored vector (what `CollectionInfo.vectorBytes` counts): the column's values, plus the sign
    /// bits for binary storage.
    var bytesPerVector: Int {
        switch spec.storage {
        case .float32: 4 * spec.dimensions
        case .int8: 2 * spec.dimensions
        case .binary: 2 * spec.dimensions + (spec.dimensions + 7) / 8
        }
    }

    /// CREATE statements for the table and its indexes; a collection that keeps previews has a `preview` column
    /// (`Preview.encoded()`, NULL for an item without one). The HNSW options are integers checked by the
    /// configuration (DDL takes no bind parameters).
    func createStatements(hnsw: HNSWOptions) -> [String] {
        let name = "rosetta_items_\(tableID)"
        var statements = [
            """
            CREATE TABLE \(table) (
                id text PRIMARY KEY,
                embedding \(columnType) NOT NULL,
                metadata jsonb NOT NULL DEFAULT '{}',
                modality smallint NOT NULL,\(spec.keepPreviews ? "\n    preview bytea," : "")
                created timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX \(Self.quoted(name + "_metadata")) ON \(table) USING gin (metadata jsonb_path_ops)",
        ]
        if hasHNSW {
            let indexed = spec.storage == .binary ? "(\(signBits("embedding"))) bit_hamming_ops" : "embedding \(operatorClass)"
            statements.append(
                "CREATE INDEX \(Self.quoted(name + "_hnsw")) ON \(table) USING hnsw (\(indexed)) WITH (m = \(hnsw.m), ef_construction = \(hnsw.efConstruction))"
            )
        }
        return statements
    }

    private var operatorClass: String { spec.storage == .float32 ? "vector_ip_ops" : "halfvec_ip_ops" }

    /// A double-quoted identifier (embedded quotes doubled).
    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// pgvector HNSW build and search options (https://github.com/pgvector/pgvector#hnsw).
public struct HNSWOptions: Sendable, Equatable {
    /// Links per node (2...100): more is better recall and more memory.
    public var m = 16
    /// Candidate list while building (>= 2 * m): more is better recall and a slower build.
    public var efConstruction = 64
    /// Candidate list while searching (1...1000): more is better recall and slower queries. Searches use
    /// pgvector's iterative scan (strict order), so a filtered search or one for more than `efSearch` hits still
    /// gets its hits.
    public var efSearch = 100

    public init() {}

    /// Why these options cannot be used, or nil.
    public var problem: String? {
        if !(2...100).contains(m) { return "hnsw_m must be between 2 and 100, got \(m)" }
        if !(4...1000).contains(efConstruction) || efConstruction < 2 * m {
            return "hnsw_ef_construction must be between 4 and 1000 and at least 2 * hnsw_m, got \(efConstruction)"
        }
        if !(1...1000).contains(efSearch) { return "hnsw_ef_search must be between 1 and 1000, got \(efSearch)" }
        return nil
    }
}
