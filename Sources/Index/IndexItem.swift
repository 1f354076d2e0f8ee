import Domain

/// A metadata value: a string or a number (numbers are doubles, as in JSON).
public enum MetadataValue: Sendable, Equatable, Hashable {
    case string(String)
    case number(Double)
}

public typealias Metadata = [String: MetadataValue]

extension Dictionary where Key == String, Value == MetadataValue {
    /// Keys plus values in bytes (UTF-8; 8 per number): what `maxMetadataBytes` limits.
    public var byteCount: Int {
        reduce(0) { total, entry in
            switch entry.value {
            case .string(let s): total + entry.key.utf8.count + s.utf8.count
            case .number: total + entry.key.utf8.count + 8
            }
        }
    }
}

/// An item to store. `vector` is already shaped for its collection (`CollectionSpec.prepare`).
public struct IndexItem: Sendable, Equatable {
    public var id: String
    public var vector: [Float]
    public var metadata: Metadata
    public var modality: Modality
    /// Kept only by a collection with `keepPreviews` (the index drops it otherwise).
    public var preview: Preview?

    public init(id: String, vector: [Float], metadata: Metadata = [:], modality: Modality = .vector, preview: Preview? = nil) {
        self.id = id
        self.vector = vector
        self.metadata = metadata
        self.modality = modality
        self.preview = preview
    }
}

/// An item as read back. `vector` is set when asked for: exact for float32 storage, decoded from the int8
/// codes for int8 and binary storage.
public struct StoredItem: Sendable, Equatable {
    public var id: String
    public var metadata: Metadata
    public var modality: Modality
    public var vector: [Float]?
    /// Set when asked for and the item has one.
    public var preview: Preview?

    public init(id: String, metadata: Metadata, modality: Modality, vector: [Float]?, preview: Preview? = nil) {
        self.id = id
        self.metadata = metadata
        self.modality = modality
        self.vector = vector
        self.preview = preview
    }
}

/// One query: a vector shaped for the collection, how many hits, and which items may be hits.
public struct SearchQuery: Sendable, Equatable {
    public var vector: [Float]
    public var topK: Int
    public var filter: Filter?
    /// Hits score at least this.
    public var minScore: Float?
    /// Only items of these modalities; all when empty.
    public var modalities: Set<Modality>
    public var includeVectors: Bool
    public var includePreviews: Bool

    public init(
        vector: [Float], topK: Int, filter: Filter? = nil, minScore: Float? = nil, modalities: Set<Modality> = [],
        includeVectors: Bool = false, includePreviews: Bool = false
    ) {
        self.vector = vector
        self.topK = topK
        self.filter = filter
        self.minScore = minScore
        self.modalities = modalities
        self.includeVectors = includeVectors
        self.includePreviews = includePreviews
    }

    /// Whether an item with this metadata and modality may be a hit (the filter is applied before top-k).
    func admits(_ metadata: Metadata, _ modality: Modality) -> Bool {
        (modalities.isEmpty || modalities.contains(modality)) && (filter?.matches(metadata) ?? true)
    }

    var isFiltered: Bool { filter != nil || !modalities.isEmpty }
}

public struct SearchHit: Sendable, Equatable {
    public var id: String
    public var score: Float
    public var metadata: Metadata
    public var modality: Modality
    public var vector: [Float]?
    public var preview: Preview?

    public init(id: String, score: Float, metadata: Metadata, modality: Modality, vector: [Float]? = nil, preview: Preview? = nil) {
        self.id = id
        self.score = score
        self.metadata = metadata
        self.modality = modality
        self.vector = vector
        self.preview = preview
    }
}
