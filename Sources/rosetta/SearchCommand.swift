import ArgumentParser
import Foundation
import RosettaAPI

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search a collection with a text, an image, an audio clip or a weighted mix of them.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var instructions: InstructionOptions

    @Option(name: .long, help: "Collection to search.")
    var collection: String

    @Option(name: .long, help: "Query text.")
    var text: String?

    @Option(name: .long, help: "Query image file (PNG, JPEG).")
    var image: String?

    @Option(name: .long, help: "Query audio file (WAV, FLAC, OGG, MP3).")
    var audio: String?

    @Option(name: .long, parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "One weighted part of a combined query, WEIGHT:KIND:VALUE with KIND text, image or audio (a file); repeat to mix, e.g. --part 1:image:kite.jpg --part -0.5:text:night. A negative weight pushes away.",
        valueName: "weight:kind:value"))
    var part: [PartArgument] = []

    @Option(name: .long, help: "How many hits to return.")
    var topK: UInt32 = 10

    @Option(name: .long, help: "Only items whose metadata key equals value (key=value); repeat to require several.")
    var filter: [FilterArgument] = []

    @Option(name: .long, help: "Only items of this modality (text, image, audio); repeat for several.")
    var modality: [MediaKind] = []

    @Option(name: .long, help: "Only hits scoring at least this.")
    var minScore: Float?

    @Flag(help: "Print one JSON object (see README, 'Scripting with --json').")
    var json = false

    func validate() throws {
        let queries = [text, image, audio].compactMap { $0 }
        guard queries.count + (part.isEmpty ? 0 : 1) == 1 else {
            throw ValidationError("give exactly one of --text, --image or --audio, or one or more --part")
        }
        guard topK > 0 else { throw ValidationError("--top-k must be at least 1") }
    }

    func run() async throws {
        var request = Rosetta_V1_SearchRequest()
        request.collection = collection
        if let text { request.input = .textInput(text) }
        if let image { request.input = try .file(image, as: .image, option: "--image") }
        if let audio { request.input = try .file(audio, as: .audio, option: "--audio") }
        if !part.isEmpty { request.combination.parts = try part.map { try $0.part() } }
        request.instruction = instructions.instruction
        request.promptName = instructions.promptName
        request.topK = topK
        if let filter = FilterArgument.all(filter) { request.filter = filter }
        request.modalities = modality.map(\.modality)
        if let minScore { request.minScore = minScore }
        let response = try await connection.call(.search, request)
        if json {
            try printJSON(SearchDocument(collection: collection, hits: response.hits.enumerated().map { SearchDocument.Hit(rank: $0.offset + 1, hit: $0.element) },
                                         usage: JSONUsage(response.usage)))
            return
        }
        guard !response.hits.isEmpty else {
            print("no hits in \(collection)")
            return
        }
        printTable(
            header: ["rank", "score", "id", "path", "modality"],
            rows: response.hits.enumerated().map { rank, hit in
                [String(rank + 1), String(format: "%.3f", hit.score), Self.shortID(hit.id), Self.path(of: hit), hit.modality.name]
            })
    }

    /// Content-hash ids are long; a table shows their first 12 characters.
    static func shortID(_ id: String) -> String { id.count > 16 ? id.prefix(12) + "…" : id }

    /// Where the item came from: its `path` metadata (set by `rosetta index`; relative to the current folder when
    /// inside it), else its `text` or `name`, else "-".
    static func path(of hit: Rosetta_V1_SearchHit) -> String {
        if let path = hit.metadata["path"].map({ JSONMetadataValue($0).text }) {
            let here = FileManager.default.currentDirectoryPath + "/"
            return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
        }
        for key in ["text", "name"] { if let value = hit.metadata[key] { return JSONMetadataValue(value).text } }
        return "-"
    }
}
