import ArgumentParser
import RosettaAPI

/// --metric of `collections create`.
enum MetricOption: String, ExpressibleByArgument, CaseIterable {
    case cosine, dot
    var proto: Rosetta_V1_Metric { self == .dot ? .dot : .cosine }
}

/// --storage of `collections create`.
enum StorageOption: String, ExpressibleByArgument, CaseIterable {
    case float32, int8, binary
    var proto: Rosetta_V1_Storage {
        switch self {
        case .float32: .float32
        case .int8: .int8
        case .binary: .binary
        }
    }
}
