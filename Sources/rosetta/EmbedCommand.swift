import ArgumentParser
import Foundation
import RosettaAPI

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Embed texts and print the vectors.")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "A text to embed; repeat for several.")
    var text: [String] = []

    @Option(name: .long, help: "Model id (default: the server's default text model).")
    var model: String = ""

    @Option(name: .long, help: "Task instruction applied through the model's template.")
    var instruction: String = ""

    @Option(name: .long, help: "Named prompt from the model's manifest (query, passage, ...).")
    var promptName: String = ""

    @Option(name: .long, help: "Keep the first N dimensions and renormalise.")
    var dimensions: UInt32 = 0

    @Option(name: .long, help: "float32, int8 or binary.")
    var encoding: String = "float32"

    @Flag(help: "Print the response as JSON.")
    var json = false

    func validate() throws {
        guard !text.isEmpty else { throw ValidationError("give at least one --text") }
        guard ["float32", "int8", "binary"].contains(encoding) else {
            throw ValidationError("--encoding must be float32, int8 or binary, not '\(encoding)'")
        }
    }

    func run() async throws {
        var request = Rosetta_V1_EmbedRequest()
        request.inputs = text.map { text in
            var input = Rosetta_V1_Input()
            input.text = text
            return input
        }
        request.model = model
        request.instruction = instruction
        request.promptName = promptName
        request.dimensions = dimensions
        request.encoding = switch encoding {
        case "int8": .int8
        case "binary": .binary
        default: .float32
        }
        let response: Rosetta_V1_EmbedResponse = try await connection.call("/rosetta.v1.Embeddings/Embed", request)
        if json {
            print(try response.jsonString())
            return
        }
        for result in response.results {
            let label = text[Int(result.index)]
            guard result.status.code == 0 else {
                print("\(label): error \(result.status.code): \(result.status.message)")
                continue
            }
            let embedding = result.embedding
            let values: String = switch request.encoding {
            case .int8: "int8 x \(embedding.scale): " + embedding.int8.prefix(8).map { "\(Int8(bitPattern: $0))" }.joined(separator: " ")
            case .binary: "bits: " + embedding.binary.prefix(8).map { String(format: "%02x", $0) }.joined()
            default: embedding.float32.prefix(8).map { String(format: "%+.4f", $0) }.joined(separator: " ")
            }
            print("\(label) [\(embedding.dimensions)-d, \(result.tokens) tokens]: \(values) ...")
        }
        print("model \(response.model), space \(response.space), \(response.usage.tokens) tokens, "
            + "\(Double(response.usage.computeTimeNs) / 1e6) ms compute")
    }
}
