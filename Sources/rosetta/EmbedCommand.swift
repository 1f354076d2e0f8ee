import ArgumentParser
import Foundation
import RosettaAPI

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Embed texts, images and audio files and print the vectors.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var instructions: InstructionOptions

    @Option(name: .long, help: "A text to embed; repeat for several.")
    var text: [String] = []

    @Option(name: .long, help: "An image file to embed (PNG, JPEG); repeat for several.")
    var image: [String] = []

    @Option(name: .long, help: "An audio file to embed (WAV, FLAC, OGG, MP3; brought into the text space through its transcript); repeat for several.")
    var audio: [String] = []

    @Flag(help: "Also print the cosine similarity of every image and audio input to every text input, best first.")
    var rank = false

    @Option(name: .long, help: "Model id (default: the server's default model).")
    var model: String = ""

    @Option(name: .long, help: "Keep the first N dimensions and renormalise (Matryoshka).")
    var dimensions: UInt32 = 0

    @Option(name: .long, help: "Vector encoding: float32, int8 or binary.")
    var encoding: EncodingOption = .float32

    @Flag(help: "Print one JSON object (see README, 'Scripting with --json').")
    var json = false

    func validate() throws {
        guard !text.isEmpty || !image.isEmpty || !audio.isEmpty else {
            throw ValidationError("give at least one --text, --image or --audio")
        }
        if rank && encoding != .float32 { throw ValidationError("--rank needs --encoding float32") }
    }

    func run() async throws {
        var request = Rosetta_V1_EmbedRequest()
        request.inputs = text.map(Rosetta_V1_Input.textInput)
        request.inputs += try image.map { try .file($0, as: .image, option: "--image") }
        request.inputs += try audio.map { try .file($0, as: .audio, option: "--audio") }
        request.model = model
        request.instruction = instructions.instruction
        request.promptName = instructions.promptName
        request.dimensions = dimensions
        request.encoding = encoding.proto
        let response = try await connection.call(.embed, request)
        let output = EmbedOutput(response: response, labels: text + image + audio, encoding: encoding)
        if json {
            try printJSON(output.document)
            return
        }
        output.printVectors()
        if rank { output.printRanking(textCount: text.count) }
        output.printUsage()
    }
}
