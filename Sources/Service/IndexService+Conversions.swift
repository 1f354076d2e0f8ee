import Foundation
import Index
import RosettaAPI
import Domain

// Conversions between the rosetta.v1 Index messages and the Index module's types. Conversions of requests
// validate (INVALID_ARGUMENT with the field named); conversions of results cannot fail.

extension Metric {
    init(_ metric: Rosetta_V1_Metric) throws(ServiceError) {
        switch metric {
        case .cosine: self = .cosine
        case .dot: self = .dot
        case .UNRECOGNIZED(let value): throw .invalidArgument("metric \(value) is not one of COSINE, DOT")
        }
    }
}

extension Storage {
    init(_ storage: Rosetta_V1_Storage) throws(ServiceError) {
        switch storage {
        case .float32: self = .float32
        case .int8: self = .int8
        case .binary: self = .binary
        case .UNRECOGNIZED(let value): throw .invalidArgument("storage \(value) is not one of FLOAT32, INT8, BINARY")
        }
    }
}

extension Modality {
    /// A modality to filter a search by.
    init(_ modality: Rosetta_V1_Modality) throws(ServiceError) {
        switch modality {
        case .text: self = .text
        case .image: self = .image
        case .audio: self = .audio
        case .vector: self = .vector
        case .unspecified, .UNRECOGNIZED:
            throw .invalidArgument("modalities: \(modality) is not one of TEXT, IMAGE, AUDIO, VECTOR")
        }
    }
}

extension Rosetta_V1_Modality {
    init(_ modality: Modality) {
        switch modality {
        case .text: self = .text
        case .image: self = .image
        case .audio: self = .audio
        case .vector: self = .vector
        }
    }
}

extension MetadataValue {
    init(_ value: Rosetta_V1_MetadataValue, key: String) throws(ServiceError) {
        switch value.kind {
        case .stringValue(let s): self = .string(s)
        case .numberValue(let x):
            guard x.isFinite else { throw .invalidArgument("metadata '\(key)' is \(x); numbers must be finite") }
            self = .number(x)
        case nil: throw .invalidArgument("metadata '\(key)' has no value: set string_value or number_value")
        }
    }
}

extension Rosetta_V1_MetadataValue {
    init(_ value: MetadataValue) {
        self.init()
        switch value {
        case .string(let s): stringValue = s
        case .number(let x): numberValue = x
        }
    }
}

extension Dictionary where Key == String, Value == MetadataValue {
    init(_ metadata: [String: Rosetta_V1_MetadataValue], position: Int) throws(ServiceError) {
        self.init(minimumCapacity: metadata.count)
        for (key, value) in metadata {
            guard !key.isEmpty else { throw .invalidArgument("item \(position) has a metadata key that is empty") }
            self[key] = try MetadataValue(value, key: key)
        }
    }
}

extension Filter {
    /// Nesting deeper than this is refused (filters are evaluated recursively).
    static let maxDepth = 32

    init(_ filter: Rosetta_V1_Filter) throws(ServiceError) {
        try self.init(filter, depth: 1)
    }

    private init(_ filter: Rosetta_V1_Filter, depth: Int) throws(ServiceError) {
        guard depth <= Self.maxDepth else { throw .invalidArgument("filter is nested deeper than \(Self.maxDepth) levels") }
        switch filter.kind {
        case .condition(let condition):
            self = try Self.condition(condition)
        case .all(let list):
            self = .all(try list.filters.map { (f) throws(ServiceError) in try Filter(f, depth: depth + 1) })
        case .any(let list):
            self = .any(try list.filters.map { (f) throws(ServiceError) in try Filter(f, depth: depth + 1) })
        case .not(let inner):
            self = .not(try Filter(inner, depth: depth + 1))
        case nil:
            throw .invalidArgument("filter is empty: set condition, all, any or not")
        }
    }

    private static func condition(_ condition: Rosetta_V1_Condition) throws(ServiceError) -> Filter {
        let key = condition.key
        guard !key.isEmpty else { throw .invalidArgument("filter condition has no key") }
        switch condition.test {
        case .equals(let value):
            return .equals(key: key, value: try MetadataValue(value, key: key))
        case .in(let list):
            guard !list.values.isEmpty else { throw .invalidArgument("filter condition on '\(key)': 'in' has no values") }
            return .oneOf(key: key, values: try list.values.map { (v) throws(ServiceError) in try MetadataValue(v, key: key) })
        case .range(let range):
            let bounds = NumericRange(
                greaterThan: range.hasGt ? range.gt : nil, atLeast: range.hasGte ? range.gte : nil,
                lessThan: range.hasLt ? range.lt : nil, atMost: range.hasLte ? range.lte : nil)
            guard !bounds.isUnbounded else { throw .invalidArgument("filter condition on '\(key)': the range has no bound") }
            return .range(key: key, bounds)
        case nil:
            throw .invalidArgument("filter condition on '\(key)' has no test: set equals, in or range")
        }
    }
}

extension Rosetta_V1_Collection {
    init(_ info: CollectionInfo) {
        self.init()
        name = info.spec.name
        model = info.spec.model
        dimensions = UInt32(info.spec.dimensions)
        metric = info.spec.metric == .cosine ? .cosine : .dot
        storage = switch info.spec.storage {
        case .float32: .float32
        case .int8: .int8
        case .binary: .binary
        }
        space = info.spec.space
        count = UInt64(info.count)
        createdUnixMs = info.spec.createdUnixMs
        keepPreviews = info.spec.keepPreviews
    }
}

extension Rosetta_V1_Preview {
    init(_ preview: Preview) {
        self.init()
        thumbnailJpeg = Data(preview.thumbnailJPEG)
        thumbnailWidth = UInt32(preview.thumbnailWidth)
        thumbnailHeight = UInt32(preview.thumbnailHeight)
        text = preview.text
        durationSeconds = preview.durationSeconds
    }
}

extension Rosetta_V1_StoredItem {
    init(_ item: StoredItem) {
        self.init()
        id = item.id
        metadata = item.metadata.mapValues(Rosetta_V1_MetadataValue.init)
        modality = Rosetta_V1_Modality(item.modality)
        if let values = item.vector { vector.values = values }
        if let stored = item.preview { preview = Rosetta_V1_Preview(stored) }
    }
}

extension Rosetta_V1_SearchHit {
    init(_ hit: SearchHit) {
        self.init()
        id = hit.id
        score = hit.score
        metadata = hit.metadata.mapValues(Rosetta_V1_MetadataValue.init)
        modality = Rosetta_V1_Modality(hit.modality)
        if let values = hit.vector { vector.values = values }
        if let stored = hit.preview { preview = Rosetta_V1_Preview(stored) }
    }
}
