import ArgumentParser
import RosettaAPI

/// `--filter key=value`: the item's metadata `key` equals `value`. A value that reads as a number also matches
/// the number (so `year=2020` finds items stored with 2020 or "2020").
struct FilterArgument: ExpressibleByArgument {
    let key: String
    let value: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        key = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
    }

    static var defaultCompletionKind: CompletionKind { .default }

    var filter: Rosetta_V1_Filter {
        var text = Rosetta_V1_MetadataValue()
        text.stringValue = value
        guard let number = Double(value), number.isFinite else { return Self.equals(key, text) }
        var numeric = Rosetta_V1_MetadataValue()
        numeric.numberValue = number
        var either = Rosetta_V1_Filter()
        either.any.filters = [Self.equals(key, text), Self.equals(key, numeric)]
        return either
    }

    private static func equals(_ key: String, _ value: Rosetta_V1_MetadataValue) -> Rosetta_V1_Filter {
        var filter = Rosetta_V1_Filter()
        filter.condition.key = key
        filter.condition.equals = value
        return filter
    }

    /// All of `filters` (nil when there are none).
    static func all(_ filters: [FilterArgument]) -> Rosetta_V1_Filter? {
        switch filters.count {
        case 0: return nil
        case 1: return filters[0].filter
        default:
            var all = Rosetta_V1_Filter()
            all.all.filters = filters.map(\.filter)
            return all
        }
    }
}
