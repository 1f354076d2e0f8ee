import ArgumentParser
import Foundation
import RPC
import RosettaAPI

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Add every image, audio and text file under a folder to a collection.",
        discussion: """
            Images (png, jpg, jpeg), audio (wav, flac, ogg, mp3) and text files (txt, md: the whole file is one \
            text) are sent by type; other files are skipped and counted. Each item's id is the SHA-256 of the file's \
            bytes and its metadata holds path, name and modality, so a second run sends only what is new. Exits \
            with 1 when an item failed (each failure is listed with the server's message).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Folder to walk (recursively).")
    var folder: String

    @Option(name: .long, help: "Collection to add the items to.")
    var collection: String

    @Flag(help: "Create the collection when it does not exist (with --model, default: the server's default model).")
    var create = false

    @Option(name: .long, help: "Model of a collection made by --create.")
    var model: String?

    @Option(name: .long, help: "Instruction applied when the server embeds the items.")
    var instruction: String = ""

    @Option(name: .long, help: "Upsert calls in flight at once.")
    var concurrency: Int = 4

    @Option(name: .long, help: "Most items per Upsert call.")
    var batchSize: Int = 8

    @Flag(help: "Print the summary as one JSON object (see README, 'Scripting with --json').")
    var json = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let connection = try connection.connect()
        let info = try await connection.call(.info, Rosetta_V1_InfoRequest())
        let limits = info.limits
        let scan = try FolderScan(root: folder)
        try await ensureCollection(connection, info: info)
        // A request carries a file plus a little framing and metadata; leave room for both.
        let maxMessage = limits.maxMessageBytes > 0 ? Int(clamping: limits.maxMessageBytes) : 4 << 20
        let preparation = IndexPreparation(
            files: scan.files, maxTextChars: Int(limits.maxTextChars), maxFileBytes: maxMessage - (64 << 10))
        let existing = try await existingIDs(of: preparation.items, connection, pageSize: Int(limits.maxTopK))
        let pending = preparation.items.filter { !existing.contains($0.id) }

        let uploader = IndexUploader(
            connection: connection, collection: collection, instruction: instruction,
            batchItems: min(batchSize, limits.maxBatchItems > 0 ? Int(limits.maxBatchItems) : batchSize),
            batchBytes: maxMessage / 2, concurrency: concurrency)
        let progress = IndexProgress(total: pending.count)
        let reporter = Task { if !pending.isEmpty { await progress.report() } }
        let failures: [IndexUploader.Failure]
        do {
            failures = try await uploader.upload(pending, progress: progress)
            reporter.cancel()
            await reporter.value
        } catch {
            reporter.cancel()
            await reporter.value
            throw error
        }
        let summary = IndexSummary(
            collection: collection, filesSeen: scan.files.count + scan.unsupported.count, sent: pending.count,
            alreadyIndexed: existing.count, unsupported: scan.unsupported, skipped: preparation.skipped,
            failures: failures, seconds: progress.elapsedSeconds)
        if json { try printJSON(summary.document) } else { summary.print() }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// Creates the collection when --create is given and it is missing; otherwise a missing one is an error.
    private func ensureCollection(_ connection: Connection, info: Rosetta_V1_InfoResponse) async throws {
        let list = try await connection.call(.listCollections, Rosetta_V1_ListCollectionsRequest())
        if list.collections.contains(where: { $0.name == collection }) { return }
        guard create else {
            throw CLIError("collection '\(collection)' does not exist at \(connection.address): "
                + "create it with `rosetta collections create \(collection)` or pass --create")
        }
        var request = Rosetta_V1_CreateCollectionRequest()
        request.name = collection
        guard let chosen = model ?? (info.models.first(where: \.isDefault) ?? info.models.first)?.id else {
            throw CLIError("the server at \(connection.address) has no model to embed files with")
        }
        request.model = chosen
        request.keepPreviews = true
        _ = try await connection.call(.createCollection, request)
        FileHandle.standardError.write(Data("created collection \(collection) (model \(chosen))\n".utf8))
    }

    /// The ids of `items` the collection already holds (Get in pages of the server's id limit).
    private func existingIDs(of items: [PendingItem], _ connection: Connection, pageSize: Int) async throws -> Set<String> {
        var found = Set<String>()
        let size = max(1, min(pageSize == 0 ? 256 : pageSize, 256))
        for start in stride(from: 0, to: items.count, by: size) {
            var request = Rosetta_V1_GetRequest()
            request.collection = collection
            request.ids = items[start..<min(start + size, items.count)].map(\.id)
            let response = try await connection.call(.get, request)
            found.formUnion(response.items.map(\.id))
        }
        return found
    }
}
