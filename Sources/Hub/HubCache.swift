import Foundation

/// The Hub cache layout huggingface_hub reads and writes (its `file_download.py`), so that either can serve what
/// the other downloaded:
///
///     <cache>/models--org--name/refs/<revision>          the commit a branch or tag pointed at (text)
///     <cache>/models--org--name/blobs/<etag>             file contents, named by the Hub's etag
///     <cache>/models--org--name/blobs/<etag>.incomplete  a download in progress (resumed with a Range request)
///     <cache>/models--org--name/snapshots/<commit>/<path> relative symlink to ../../blobs/<etag>
///     <cache>/.locks/models--org--name/<etag>.lock       flock(2)ed while a blob is downloaded
///
/// Blobs and links are written to a temporary name and renamed, so a reader never sees half a file.
struct HubCache: Sendable {
    let root: URL

    func folder(_ repository: HubRepository) -> URL { root.appendingPathComponent(repository.cacheFolderName) }

    func snapshot(_ repository: HubRepository, commit: String) -> URL {
        folder(repository).appendingPathComponent("snapshots").appendingPathComponent(commit)
    }

    func blob(_ repository: HubRepository, etag: String) -> URL {
        folder(repository).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    func lockFile(_ repository: HubRepository, etag: String) -> URL {
        root.appendingPathComponent(".locks").appendingPathComponent(repository.cacheFolderName).appendingPathComponent("\(etag).lock")
    }

    /// The commit the repository's revision resolves to in the cache: the revision itself when it is a commit
    /// hash, else the content of refs/<revision>.
    func commit(_ repository: HubRepository) -> String? {
        if repository.revisionIsCommit { return repository.revision }
        let ref = folder(repository).appendingPathComponent("refs").appendingPathComponent(repository.revision)
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return HubRepository.isCommit(commit) ? commit : nil
    }

    /// The files of a cached snapshot (relative paths; links whose blob is missing are left out).
    func files(_ repository: HubRepository, commit: String) -> [String] {
        let base = snapshot(repository, commit: commit)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base.appendingPathComponent(path).path, isDirectory: &isDirectory),
               !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    func writeRef(_ repository: HubRepository, commit: String) throws(HubError) {
        guard !repository.revisionIsCommit else { return }
        let ref = folder(repository).appendingPathComponent("refs").appendingPathComponent(repository.revision)
        try replace(ref) { temporary in try Data(commit.utf8).write(to: temporary) }
    }

    /// Points snapshots/<commit>/<path> at blobs/<etag> with a relative link, as huggingface_hub does.
    func link(_ repository: HubRepository, commit: String, path: String, etag: String) throws(HubError) {
        let target = snapshot(repository, commit: commit).appendingPathComponent(path)
        let depth = path.split(separator: "/").count + 1  // up out of the path's folders, <commit>/ and snapshots/
        let relative = String(repeating: "../", count: depth) + "blobs/" + etag
        try replace(target) { temporary in
            try FileManager.default.createSymbolicLink(atPath: temporary.path, withDestinationPath: relative)
        }
    }

    /// Makes `url`'s folder, writes through `make` to a temporary sibling and renames it over `url`.
    func replace(_ url: URL, _ make: (URL) throws -> Void) throws(HubError) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try make(temporary)
            guard rename(temporary.path, url.path) == 0 else { throw POSIXFailure(errno: errno) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw HubError.storage(path: url.path, detail: POSIXFailure.describe(error))
        }
    }
}

/// A failed system call, described for people (ENOSPC: "the disk is full", ...).
struct POSIXFailure: Error {
    let errno: Int32

    static func describe(_ error: any Error) -> String {
        let code: Int32? = (error as? POSIXFailure)?.errno ?? {
            let ns = error as NSError
            if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
            return (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
        }()
        switch code {
        case ENOSPC?: return "the disk is full: free space, or point HF_HUB_CACHE at a disk with room"
        case EFBIG?: return "the file is over this process's file-size limit (ulimit -f)"
        case EROFS?, EACCES?, EPERM?: return "\(String(cString: strerror(code ?? 0))): point HF_HUB_CACHE at a writable folder"
        case let code?: return String(cString: strerror(code))
        case nil: return "\(error)"
        }
    }
}
