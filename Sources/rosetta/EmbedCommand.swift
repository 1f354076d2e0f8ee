import ArgumentParser
import Foundation
import RosettaAPI

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Embed texts and audio files and print the vectors.")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "A text to embed; repeat for several.")
    var text: [String] = []

    @Option(name: .long, help: "An audio file to embed (WAV, FLAC, OGG; brought into the text space through its transcript); repeat for several.")
    var audio: [String] = []

    @Flag(help: "Also print the cosine similarity of every audio input to every text input, best first (audio -> text retrieval).")
    var rank = false

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
        guard !text.isEmpty || !audio.isEmpty else { throw ValidationError("give at least one --text or --audio") }
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
        for path in audio {
            var input = Rosetta_V1_Input()
            do { input.audio.data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("cannot read --audio \(path): \(error.localizedDescription)")
            }
            request.inputs.append(input)
        }
        let labels = text + audio
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
            let label = labels[Int(result.index)]
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
            if result.hasNoSpeechProbability {
                print("  transcript: \"\(result.transcript)\" (no-speech probability \(String(format: "%.2f", result.noSpeechProbability)))")
            }
        }
        if rank && request.encoding == .float32 {
            let vectors = Dictionary(uniqueKeysWithValues: response.results.filter { $0.status.code == 0 }
                .map { (Int($0.index), $0.embedding.float32) })
            for a in text.count..<labels.count {
                guard let query = vectors[a] else { continue }
                let scored = (0..<text.count).compactMap { t in
                    vectors[t].map { (t, zip(query, $0).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                }.sorted { $0.1 > $1.1 }
                print("\(labels[a]) ->")
                for (t, score) in scored.prefix(3) { print(String(format: "  %.3f  ", score) + text[t]) }
            }
        }
        print("model \(response.model), space \(response.space), \(response.usage.tokens) tokens, "
            + "\(Double(response.usage.computeTimeNs) / 1e6) ms compute")
    }
}
