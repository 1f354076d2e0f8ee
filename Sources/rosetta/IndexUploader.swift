import Foundation
import RPC
import RosettaAPI

/// Sends pending items to a collection as Upsert batches, several batches in flight at once.
struct IndexUploader: Sendable {
    let connection: Connection
    let collection: String
    let instruction: String
    /// Most items per Upsert (the server's max_batch_items caps it).
    let batchItems: Int
    /// Most file bytes per Upsert, well under the server's message limit.
    let batchBytes: Int
    /// Upsert calls in flight at once.
    let concurrency: Int

    struct Failure: Sendable {
        let path: String
        let code: RPCStatus.Code
        let message: String
    }

    /// Consecutive runs of `items` that fit one Upsert each.
    func batches(_ items: [PendingItem]) -> [ArraySlice<PendingItem>] {
        var batches: [ArraySlice<PendingItem>] = []
        var start = 0
        var bytes = 0
        for (i, item) in items.enumerated() {
            if i > start && (i - start >= batchItems || bytes + item.bytes > batchBytes) {
                batches.append(items[start..<i])
                start = i
                bytes = 0
            }
            bytes += item.bytes
        }
        if start < items.count { batches.append(items[start...]) }
        return batches
    }

    /// Uploads everything; returns the per-item failures. A failure of the connection itself (server gone,
    /// deadline, refused token, collection deleted meanwhile) stops the run and is thrown.
    func upload(_ items: [PendingItem], progress: IndexProgress) async throws -> [Failure] {
        let batches = batches(items)
        return try await withThrowingTaskGroup(of: [Failure].self) { group in
            var next = 0
            var failures: [Failure] = []
            while next < min(concurrency, batches.count) {
                let batch = batches[next]
                group.addTask { try await send(batch, progress: progress) }
                next += 1
            }
            while let batchFailures = try await group.next() {
                failures += batchFailures
                if next < batches.count {
                    let batch = batches[next]
                    group.addTask { try await send(batch, progress: progress) }
                    next += 1
                }
            }
            return failures
        }
    }

    private func send(_ batch: ArraySlice<PendingItem>, progress: IndexProgress) async throws -> [Failure] {
        var request = Rosetta_V1_UpsertRequest()
        request.collection = collection
        request.instruction = instruction
        var failures: [Failure] = []
        var sent: [PendingItem] = []
        for item in batch {
            do {
                request.items.append(try Self.item(item))
                sent.append(item)
            } catch {
                failures.append(Failure(path: item.path, code: .invalidArgument, message: "cannot be read: \(error.localizedDescription)"))
            }
        }
        do {
            let response = try await connection.call(.upsert, request)
            for result in response.results where result.status.code != 0 && sent.indices.contains(Int(result.index)) {
                failures.append(Failure(path: sent[Int(result.index)].path, code: RPCStatus.Code(rawValue: result.status.code) ?? .unknown,
                                        message: result.status.message))
            }
        } catch let error as CLIError where error.status.map(Self.failsOnlyThisBatch) == true {
            // The server refused the batch as a whole (e.g. over a limit): its items fail, the run goes on.
            failures += sent.map { Failure(path: $0.path, code: error.status ?? .unknown, message: error.description) }
        }
        progress.record(done: batch.count, failed: failures.count)
        return failures
    }

    private static func failsOnlyThisBatch(_ code: RPCStatus.Code) -> Bool {
        [.invalidArgument, .resourceExhausted, .failedPrecondition, .outOfRange, .internal, .unknown].contains(code)
    }

    /// The Upsert item for a file: raw content (the server embeds it) and the metadata search shows.
    static func item(_ item: PendingItem) throws -> Rosetta_V1_Item {
        let data = try Data(contentsOf: URL(fileURLWithPath: item.path))
        var stored = Rosetta_V1_Item()
        stored.id = item.id
        stored.input = .media(item.kind, data: data, path: item.path)
        stored.metadata = [
            "path": .string(item.path),
            "name": .string((item.path as NSString).lastPathComponent),
            "modality": .string(item.kind.rawValue),
        ]
        return stored
    }
}

extension Rosetta_V1_MetadataValue {
    static func string(_ value: String) -> Self {
        var metadata = Self()
        metadata.stringValue = value
        return metadata
    }
}
