import ArgumentParser
import Foundation
import RosettaAPI

struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collections", abstract: "List, create and delete collections.",
        subcommands: [List.self, Create.self, Delete.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the collections and their sizes.")

        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Print one JSON object: {\"collections\": [...]}.")
        var json = false

        func run() async throws {
            let response = try await connection.call(.listCollections, Rosetta_V1_ListCollectionsRequest())
            let collections = response.collections.sorted { $0.name < $1.name }
            if json {
                try printJSON(["collections": collections.map(JSONCollection.init)])
                return
            }
            guard !collections.isEmpty else {
                print("no collections at \(connection.address) (create one with `rosetta collections create NAME`)")
                return
            }
            printTable(
                header: ["name", "model", "dims", "metric", "storage", "items", "created"],
                rows: collections.map { c in
                    [c.name, c.model.isEmpty ? "(raw vectors)" : c.model, "\(c.dimensions)", JSONCollection.name(c.metric),
                     JSONCollection.name(c.storage), "\(c.count)", JSONCollection.date(c.createdUnixMs)]
                })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a collection bound to a model's space, or of raw vectors of a given dimension.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "Collection name.")
        var name: String

        @Option(name: .long, help: "Model that embeds the items (default: the server's default model).")
        var model: String?

        @Option(name: .long, help: "Keep only the first N dimensions of the model's vectors (Matryoshka).")
        var dimensions: UInt32 = 0

        @Option(name: .long, help: "A collection of raw vectors of this dimension, bound to no model.")
        var dimension: UInt32?

        @Option(name: .long, help: "cosine or dot.")
        var metric: MetricOption = .cosine

        @Option(name: .long, help: "float32, int8 or binary (sign bits, re-ranked with float vectors).")
        var storage: StorageOption = .float32

        @Flag(name: .customLong("no-previews"),
              help: "Keep no previews (thumbnails, transcripts, text) of the items: the web console then shows ids only.")
        var noPreviews = false

        @Flag(help: "Print the created collection as JSON.")
        var json = false

        func validate() throws {
            if dimension != nil && (model != nil || dimensions != 0) {
                throw ValidationError("--dimension makes a raw-vector collection; it does not go with --model or --dimensions")
            }
        }

        func run() async throws {
            var request = Rosetta_V1_CreateCollectionRequest()
            request.name = name
            request.metric = metric.proto
            request.storage = storage.proto
            request.keepPreviews = !noPreviews
            if let dimension {
                request.dimensions = dimension
            } else {
                if let model { request.model = model } else { request.model = try await defaultModel() }
                request.dimensions = dimensions
            }
            let collection = try await connection.call(.createCollection, request)
            if json {
                try printJSON(JSONCollection(collection))
                return
            }
            print("created \(collection.name): \(collection.model.isEmpty ? "raw vectors" : collection.model), "
                + "\(collection.dimensions)-d, \(JSONCollection.name(collection.metric)), \(JSONCollection.name(collection.storage)) storage")
        }

        private func defaultModel() async throws -> String {
            let info = try await connection.call(.info, Rosetta_V1_InfoRequest())
            guard let model = info.models.first(where: \.isDefault) ?? info.models.first else {
                throw CLIError("the server at \(connection.address) has no model; give --dimension for a raw-vector collection")
            }
            return model.id
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a collection and everything in it.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "Collection name.")
        var name: String

        func run() async throws {
            var request = Rosetta_V1_DeleteCollectionRequest()
            request.name = name
            _ = try await connection.call(.deleteCollection, request)
            print("deleted \(name)")
        }
    }
}
