import ArgumentParser

/// The sample client CLI. Subcommands talk to a rosetta-server over gRPC.
@main
struct RosettaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rosetta",
        abstract: "Embed, index and search texts, images and audio with a Rosetta server.",
        subcommands: [InfoCommand.self, EmbedCommand.self, CollectionsCommand.self, IndexCommand.self, SearchCommand.self]
    )
}
