import Foundation

/// The files under a folder, sorted by path, split into those the server takes (by extension) and the rest.
/// Hidden files and folders (".git", ".DS_Store", ...) are left out.
struct FolderScan {
    struct File: Sendable {
        let path: String
        let kind: MediaKind
    }

    var files: [File] = []
    /// Paths of files of a type the server does not take.
    var unsupported: [String] = []

    init(root: String) throws {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(root) is not a folder")
        }
        guard let walker = FileManager.default.enumerator(
            at: rootURL, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { throw CLIError("cannot list \(root)") }
        var paths: [String] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            paths.append(url.standardizedFileURL.path)
        }
        for path in paths.sorted() {
            if let kind = MediaKind(path: path) {
                files.append(File(path: path, kind: kind))
            } else {
                unsupported.append(path)
            }
        }
    }
}

/// A file ready to send: its content-hash id, checked against the server's limits.
struct PendingItem: Sendable {
    let id: String
    let path: String
    let kind: MediaKind
    let bytes: Int
}

/// Reads and hashes every file, keeping those the server can take. The same content found twice is sent once.
struct IndexPreparation {
    var items: [PendingItem] = []
    /// (path, why it is not sent)
    var skipped: [(path: String, reason: String)] = []

    init(files: [FolderScan.File], maxTextChars: Int, maxFileBytes: Int) {
        var firstPathOfID: [String: String] = [:]
        for file in files {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            } catch {
                skipped.append((file.path, "cannot be read: \(error.localizedDescription)"))
                continue
            }
            if let problem = Self.problem(file, data, maxTextChars: maxTextChars, maxFileBytes: maxFileBytes) {
                skipped.append((file.path, problem))
                continue
            }
            let id = SHA256.hex(data)
            if let first = firstPathOfID[id] {
                skipped.append((file.path, "same content as \(first)"))
                continue
            }
            firstPathOfID[id] = file.path
            items.append(PendingItem(id: id, path: file.path, kind: file.kind, bytes: data.count))
        }
    }

    private static func problem(_ file: FolderScan.File, _ data: Data, maxTextChars: Int, maxFileBytes: Int) -> String? {
        if data.isEmpty { return "empty file" }
        if data.count > maxFileBytes { return "\(data.count) bytes, over the server's message limit (\(maxFileBytes) bytes)" }
        guard file.kind == .text else { return nil }
        guard let text = String(validating: data, as: UTF8.self) else { return "not UTF-8 text" }
        if text.unicodeScalars.allSatisfy(\.properties.isWhitespace) { return "only whitespace" }
        // The server counts Unicode scalars.
        let length = text.unicodeScalars.count
        if maxTextChars > 0 && length > maxTextChars {
            return "\(length) characters, over the server's limit of \(maxTextChars) per text"
        }
        return nil
    }
}
