import ArgumentParser
import RosettaAPI

/// float32 | int8 | binary, as given to --encoding.
enum EncodingOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    case float32, int8, binary

    var proto: Rosetta_V1_Encoding {
        switch self {
        case .float32: .float32
        case .int8: .int8
        case .binary: .binary
        }
    }
}

/// How inputs are embedded; shared by `embed` and `search`.
struct InstructionOptions: ParsableArguments {
    @Option(name: .long, help: "Task instruction applied through the model's template.")
    var instruction: String = ""

    @Option(name: .long, help: "Named prompt from the model's manifest (query, passage, ...).")
    var promptName: String = ""
}
