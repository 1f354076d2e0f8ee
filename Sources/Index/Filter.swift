/// A condition on item metadata: equality, membership, a numeric range, or a combination.
///
/// A condition on a key the item does not have is false (so `not` of it is true). Values compare by kind: the
/// string "3" does not equal the number 3. Ranges apply to numbers only.
public indirect enum Filter: Sendable, Equatable {
    case equals(key: String, value: MetadataValue)
    case oneOf(key: String, values: [MetadataValue])
    case range(key: String, NumericRange)
    /// True when every filter is (true for an empty list).
    case all([Filter])
    /// True when at least one filter is (false for an empty list).
    case any([Filter])
    case not(Filter)

    public func matches(_ metadata: Metadata) -> Bool {
        switch self {
        case let .equals(key, value):
            return metadata[key] == value
        case let .oneOf(key, values):
            guard let value = metadata[key] else { return false }
            return values.contains(value)
        case let .range(key, range):
            guard case .number(let number)? = metadata[key] else { return false }
            return range.contains(number)
        case let .all(filters):
            return filters.allSatisfy { $0.matches(metadata) }
        case let .any(filters):
            return filters.contains { $0.matches(metadata) }
        case let .not(filter):
            return !filter.matches(metadata)
        }
    }

    /// Nesting depth (a condition is 1).
    public var depth: Int {
        switch self {
        case .equals, .oneOf, .range: 1
        case let .all(filters), let .any(filters): 1 + (filters.map(\.depth).max() ?? 0)
        case let .not(filter): 1 + filter.depth
        }
    }
}

/// A numeric range; a nil bound is open.
public struct NumericRange: Sendable, Equatable {
    public var greaterThan: Double?
    public var atLeast: Double?
    public var lessThan: Double?
    public var atMost: Double?

    public init(greaterThan: Double? = nil, atLeast: Double? = nil, lessThan: Double? = nil, atMost: Double? = nil) {
        self.greaterThan = greaterThan
        self.atLeast = atLeast
        self.lessThan = lessThan
        self.atMost = atMost
    }

    public var isUnbounded: Bool { greaterThan == nil && atLeast == nil && lessThan == nil && atMost == nil }

    public func contains(_ x: Double) -> Bool {
        if let greaterThan, !(x > greaterThan) { return false }
        if let atLeast, !(x >= atLeast) { return false }
        if let lessThan, !(x < lessThan) { return false }
        if let atMost, !(x <= atMost) { return false }
        return true
    }
}
