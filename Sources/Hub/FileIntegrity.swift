import Crypto
import Foundation

/// Checks a downloaded file against what the Hub announced: its size, and its etag's hash — the sha256 of the
/// content for LFS files (64 hex digits), the git blob sha1 (`sha1("blob <size>\0" + content)`, 40 hex digits)
/// for files in git. An etag of another form (a proxy's, a mirror's) is checked by size alone.
enum FileIntegrity {
    static func check(_ url: URL, etag: String, size: Int?) throws(HubError) {
        let name = url.lastPathComponent
        let actualSize: Int
        do {
            actualSize = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? -1
        } catch {
            throw .storage(path: url.path, detail: POSIXFailure.describe(error))
        }
        if let size, size != actualSize {
            throw .integrity(file: name, detail: "\(actualSize) bytes where the Hub announced \(size)")
        }
        let isHex = etag.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
        guard isHex, etag.utf8.count == 64 || etag.utf8.count == 40 else { return }
        let digest: String
        do {
            digest = etag.utf8.count == 64
                ? try hash(url, into: SHA256(), prefix: [])
                : try hash(url, into: Insecure.SHA1(), prefix: Array("blob \(actualSize)\0".utf8))
        } catch {
            throw .storage(path: url.path, detail: POSIXFailure.describe(error))
        }
        guard digest == etag else {
            throw .integrity(file: name, detail: "its \(etag.utf8.count == 64 ? "sha256" : "git sha1") is \(digest), the Hub's etag \(etag)")
        }
    }

    static func hash<H: HashFunction>(_ url: URL, into function: H, prefix: [UInt8]) throws -> String {
        var function = function
        function.update(data: prefix)
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            function.update(data: chunk)
        }
        return function.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
