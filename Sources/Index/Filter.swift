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

    /// True when the filter matches every item by its structure alone, whatever the items' metadata: it
    /// constrains nothing. That is an empty `all`; an `all` of only such filters; an `any` holding one; and
    /// `not` of a filter that matches nothing by its structure (an empty `any`, an `all` holding such a
    /// filter, an empty `oneOf`). Delete refuses such a filter, as it refuses a request with no filter. A
    /// filter that conditions on keys is taken at its word, even when its conditions cover every case
    /// (`x = 1` or not `x = 1`).
    public var matchesEverything: Bool { fixedOutcome == true }

    /// The outcome when the filter's structure fixes it (no condition on a key can change it), else nil.
    var fixedOutcome: Bool? {
        switch self {
        case .oneOf(_, let values) where values.isEmpty:
            return false
        case .equals, .oneOf, .range:
            return nil
        case .all(let filters):
            let outcomes = filters.map(\.fixedOutcome)
            if outcomes.contains(false) { return false }
            return outcomes.allSatisfy { $0 == true } ? true : nil
        case .any(let filters):
            let outcomes = filters.map(\.fixedOutcome)
            if outcomes.contains(true) { return true }
            return outcomes.allSatisfy { $0 == false } ? false : nil
        case .not(let filter):
            return filter.fixedOutcome.map { !$0 }
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
