import ArgumentParser

/// The sample client CLI. Subcommands talk to a rosetta-server over gRPC.
@main
struct RosettaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rosetta",
        abstract: "Embed text with a Rosetta server and see what it serves.",
        subcommands: [InfoCommand.self, EmbedCommand.self]
    )
}
