import Foundation

/// What `rosetta index` did, printed at the end (a few lines, or the `--json` document).
struct IndexSummary {
    let collection: String
    let filesSeen: Int
    let sent: Int
    let alreadyIndexed: Int
    let unsupported: [String]
    let skipped: [(path: String, reason: String)]
    let failures: [IndexUploader.Failure]
    let seconds: Double

    var indexed: Int { sent - failures.count }
    var itemsPerSecond: Double { seconds > 0 ? Double(sent) / seconds : 0 }

    /// `index --json`: counts, then the paths behind every skip and failure.
    struct Document: Encodable {
        let collection: String
        let files: Int
        let indexed: Int
        let alreadyIndexed: Int
        let failed: [Failed]
        let skipped: [Skipped]
        let unsupported: [String]
        let seconds: Double
        let itemsPerSecond: Double

        struct Failed: Encodable {
            let path: String
            let code: String
            let message: String
        }

        struct Skipped: Encodable {
            let path: String
            let reason: String
        }
    }

    var document: Document {
        Document(
            collection: collection, files: filesSeen, indexed: indexed, alreadyIndexed: alreadyIndexed,
            failed: failures.map { .init(path: $0.path, code: $0.code.canonicalName, message: $0.message) },
            skipped: skipped.map { .init(path: $0.path, reason: $0.reason) }, unsupported: unsupported,
            seconds: seconds, itemsPerSecond: itemsPerSecond)
    }

    func print() {
        Swift.print("\(collection): \(indexed) new items indexed in \(String(format: "%.1f", seconds)) s "
            + "(\(String(format: "%.1f", itemsPerSecond)) items/s), \(alreadyIndexed) already indexed, "
            + "\(failures.count) failed, \(skipped.count + unsupported.count) skipped, of \(filesSeen) files")
        if !unsupported.isEmpty {
            let byExtension = Dictionary(grouping: unsupported) { path -> String in
                let ext = (path as NSString).pathExtension.lowercased()
                return ext.isEmpty ? "(no extension)" : "." + ext
            }
            let counts = byExtension.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.count)" }
            Swift.print("skipped \(unsupported.count) unsupported files: " + counts.joined(separator: ", "))
        }
        for skip in skipped { Swift.print("skipped \(skip.path): \(skip.reason)") }
        for failure in failures { Swift.print("failed \(failure.path): \(failure.code.canonicalName): \(failure.message)") }
    }
}
