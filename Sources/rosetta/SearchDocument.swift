import RosettaAPI

/// `search --json`: {"collection", "hits": [{"rank", "id", "score", "modality", "metadata"}], "usage"}.
struct SearchDocument: Encodable {
    let collection: String
    let hits: [Hit]
    let usage: JSONUsage

    struct Hit: Encodable {
        let rank: Int
        let id: String
        let score: Float
        let modality: String
        let metadata: [String: JSONMetadataValue]

        init(rank: Int, hit: Rosetta_V1_SearchHit) {
            self.rank = rank
            id = hit.id
            score = hit.score
            modality = hit.modality.name
            metadata = hit.metadata.json
        }
    }
}
