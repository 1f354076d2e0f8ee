import ArgumentParser
import RosettaAPI

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the server's version, models and limits.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print the response as JSON.")
    var json = false

    func run() async throws {
        let info = try await connection.call(.info, Rosetta_V1_InfoRequest())
        if json {
            print(try info.jsonString())
            return
        }
        print("rosetta-server \(info.version) at \(connection.address), \(info.computeThreads) compute threads")
        print("")
        let rows = info.models.map { model in
            [model.id + (model.isDefault ? " *" : ""), model.architecture,
             model.modalities.map { "\($0)" }.joined(separator: ","), "\(model.dimensions)", "\(model.maxTokens)",
             model.maxInstructionTokens > 0 ? "\(model.maxInstructionTokens)" : "-", model.space]
        }
        printTable(header: ["model", "architecture", "modalities", "dims", "max tokens", "instruction tokens", "space"], rows: rows)
        let limits = info.limits
        print("")
        print("limits: \(limits.maxBatchItems) inputs/request, \(limits.maxTextChars) chars/text, "
            + "\(limits.maxMessageBytes) bytes/message, \(limits.maxImagePixels) pixels/image")
    }
}

/// A plain left-aligned table.
func printTable(header: [String], rows: [[String]]) {
    let table = [header] + rows
    let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
    for row in table {
        var line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        while line.hasSuffix(" ") { line.removeLast() }
        print(line)
    }
}
