/// The operations the Index service needs from a store of collections. Two implement it: `LocalIndex` keeps
/// everything in memory (with an optional write-ahead log and snapshots), and `PostgresIndex` (module
/// PostgresIndex) keeps it in PostgreSQL + pgvector, which several servers can share (DESIGN.md section 6).
///
/// Contract for every implementation:
/// - a write that returns has been applied and is durable (when the backend is durable); one that throws has
///   not been applied at all;
/// - vectors passed in are already shaped for their collection (`CollectionSpec.prepare`), and
///   implementations check their length again;
/// - calls may come from any task concurrently; searches see each write entirely or not at all.
public protocol VectorIndex: Sendable {
    func createCollection(_ spec: CollectionSpec) async throws(IndexError) -> CollectionInfo
    func deleteCollection(_ name: String) async throws(IndexError)
    func listCollections() async throws(IndexError) -> [CollectionInfo]
    func collection(_ name: String) async throws(IndexError) -> CollectionInfo

    /// Inserts the items, replacing any with the same id (a later item in `items` wins over an earlier one).
    func upsert(_ items: [IndexItem], into collection: String) async throws(IndexError)
    /// Deletes the items with these ids; returns how many existed.
    func delete(ids: [String], from collection: String) async throws(IndexError) -> Int
    /// Deletes every item whose metadata matches; returns how many.
    func delete(matching filter: Filter, from collection: String) async throws(IndexError) -> Int
    /// The items found, in the order of `ids`, and the ids not found.
    func get(ids: [String], from collection: String, includeVectors: Bool, includePreviews: Bool) async throws(IndexError)
        -> (items: [StoredItem], missing: [String])
    /// Exact top-k for each query (one matrix product for the whole batch), best first.
    func search(_ queries: [SearchQuery], in collection: String) async throws(IndexError) -> [[SearchHit]]
}

extension VectorIndex {
    /// The items found without their previews.
    public func get(ids: [String], from collection: String, includeVectors: Bool) async throws(IndexError)
        -> (items: [StoredItem], missing: [String])
    {
        try await get(ids: ids, from: collection, includeVectors: includeVectors, includePreviews: false)
    }
}
