import ArgumentParser
import RosettaAPI

/// `--part WEIGHT:KIND:VALUE`: one weighted part of a combined query, e.g. `--part 1:image:photo.jpg
/// --part -0.5:text:night` ("like this photo, not night"). KIND is text (VALUE is the text), image or audio
/// (VALUE is a file).
struct PartArgument: ExpressibleByArgument {
    let weight: Float
    let kind: MediaKind
    let value: String

    init?(argument: String) {
        let fields = argument.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let weight = Float(fields[0]), let kind = MediaKind(rawValue: String(fields[1])),
              !fields[2].isEmpty else { return nil }
        self.weight = weight
        self.kind = kind
        value = String(fields[2])
    }

    static var defaultCompletionKind: CompletionKind { .default }

    func part() throws -> Rosetta_V1_WeightedPart {
        var part = Rosetta_V1_WeightedPart()
        part.weight = weight
        part.input = kind == .text ? .textInput(value) : try .file(value, as: kind, option: "--part")
        return part
    }
}
