import Domain
import Index

/// A piece of SQL with its bind values. Values are never written into `sql`: each is a `$n` placeholder, numbered
/// from the `firstParameter` the fragment was built with, and `values[i]` binds `$(firstParameter + i)`.
struct SQLFragment: Sendable, Equatable {
    var sql: String
    var values: [SQLValue]
}

/// A bind value of the index's queries.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case double(Double)
    /// A jsonb document, sent as its text (the placeholder carries a `::jsonb` cast).
    case json(String)
    case smallints([Int16])
}

/// Turns a metadata `Filter` (and a modality set) into a SQL condition on the `metadata` (jsonb) and `modality`
/// (smallint) columns, with the same meaning as `Filter.matches`:
/// - equality is jsonb containment (`metadata @> {"key": value}`), so values compare by kind ("3" is not 3) and
///   numbers numerically; a GIN index on `metadata` serves it;
/// - a range applies to numbers only: a missing key or a string is false;
/// - every condition is two-valued (never NULL), so `not` of a condition on a missing key is true, as in memory.
struct SQLFilterBuilder {
    private(set) var values: [SQLValue] = []
    let firstParameter: Int

    init(firstParameter: Int) {
        self.firstParameter = firstParameter
    }

    /// The condition for `filter` and `modalities` (either may be absent), or nil when nothing is filtered.
    static func condition(filter: Filter?, modalities: Set<Modality>, firstParameter: Int) -> SQLFragment? {
        var builder = SQLFilterBuilder(firstParameter: firstParameter)
        var parts: [String] = []
        if let filter { parts.append(builder.condition(filter)) }
        if !modalities.isEmpty {
            let codes = modalities.map { Int16($0.rawValue) }.sorted()
            parts.append("modality = ANY(\(builder.bind(.smallints(codes)))::smallint[])")
        }
        guard !parts.isEmpty else { return nil }
        return SQLFragment(sql: parts.joined(separator: " AND "), values: builder.values)
    }

    mutating func condition(_ filter: Filter) -> String {
        switch filter {
        case let .equals(key, value):
            return contains(key, value)
        case let .oneOf(key, values):
            guard !values.isEmpty else { return "FALSE" }
            return "(" + values.map { contains(key, $0) }.joined(separator: " OR ") + ")"
        case let .range(key, range):
            return numericRange(key, range)
        case let .all(filters):
            guard !filters.isEmpty else { return "TRUE" }
            return "(" + filters.map { condition($0) }.joined(separator: " AND ") + ")"
        case let .any(filters):
            guard !filters.isEmpty else { return "FALSE" }
            return "(" + filters.map { condition($0) }.joined(separator: " OR ") + ")"
        case let .not(inner):
            return "(NOT \(condition(inner)))"
        }
    }

    /// `metadata @> {"key": value}`: true exactly when the item has `key` with this value of this kind.
    private mutating func contains(_ key: String, _ value: MetadataValue) -> String {
        "metadata @> \(bind(.json(MetadataJSON.encode([key: value]))))::jsonb"
    }

    /// True when `key` holds a number inside the range. The CASE keeps the cast away from strings, and COALESCE
    /// turns "no such number" into false (not NULL).
    private mutating func numericRange(_ key: String, _ range: NumericRange) -> String {
        let keyParameter = bind(.text(key))
        let number = "CASE WHEN jsonb_typeof(metadata -> \(keyParameter)::text) = 'number' THEN (metadata -> \(keyParameter)::text)::float8 END"
        var bounds: [String] = ["\(number) IS NOT NULL"]
        if let x = range.greaterThan { bounds.append("\(number) > \(bind(.double(x)))::float8") }
        if let x = range.atLeast { bounds.append("\(number) >= \(bind(.double(x)))::float8") }
        if let x = range.lessThan { bounds.append("\(number) < \(bind(.double(x)))::float8") }
        if let x = range.atMost { bounds.append("\(number) <= \(bind(.double(x)))::float8") }
        return "COALESCE(" + bounds.joined(separator: " AND ") + ", FALSE)"
    }

    /// Appends a value and returns its placeholder.
    mutating func bind(_ value: SQLValue) -> String {
        values.append(value)
        return "$\(firstParameter + values.count - 1)"
    }
}
