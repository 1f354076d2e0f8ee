import Foundation
import Testing
@testable import Hub

/// Parsing of model references, the environment as huggingface_hub reads it, and the cache layout it writes.
/// Downloads against a mock Hub are tested through the server (clients/python/tests/test_hub.py).
@Suite struct HubTests {
    @Test func referencesParseAndBadOnesAreRefusedWithTheExpectedForm() throws {
        let clip = try HubRepository(parsing: "openai/clip-vit-base-patch32")
        #expect(clip.id == "openai/clip-vit-base-patch32" && clip.revision == "main" && clip.name == "clip-vit-base-patch32")
        #expect(clip.cacheFolderName == "models--openai--clip-vit-base-patch32")
        let pinned = try HubRepository(parsing: "google/siglip-base-patch16-224@v1.0")
        #expect(pinned.revision == "v1.0" && !pinned.revisionIsCommit && pinned.description == "google/siglip-base-patch16-224@v1.0")
        #expect(try HubRepository(parsing: "a/b@" + String(repeating: "e", count: 40)).revisionIsCommit)
        for bad in ["clip", "a/b/c", "/b", "a/", "a/..", "a/b c", "a/b@", "a/b@x y", "a/b@../x", "../b"] {
            #expect(throws: HubError.self, "\(bad)") { try HubRepository(parsing: bad) }
        }
    }

    @Test func theEnvironmentIsReadAsHuggingFaceHubReadsIt() throws {
        let defaults = try HubSettings.fromEnvironment(["XDG_CACHE_HOME": "/xdg"])
        #expect(defaults.endpoint.absoluteString == "https://huggingface.co" && !defaults.offline && defaults.token == nil)
        #expect(defaults.cacheDirectory.path == "/xdg/huggingface/hub")
        let home = try HubSettings.fromEnvironment(["HF_HOME": "/h", "HF_ENDPOINT": "http://mirror:8080/", "HF_HUB_OFFLINE": "TRUE"])
        #expect(home.cacheDirectory.path == "/h/hub" && home.offline && home.endpoint.absoluteString == "http://mirror:8080")
        #expect(try HubSettings.fromEnvironment(["HF_HUB_CACHE": "/c", "HF_HOME": "/h"]).cacheDirectory.path == "/c")
        #expect(try HubSettings.fromEnvironment(["HUGGINGFACE_HUB_CACHE": "/old"]).cacheDirectory.path == "/old")
        #expect(try HubSettings.fromEnvironment(["HF_HUB_OFFLINE": "0"]).offline == false)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "hf_fromfile\n".write(to: folder.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        #expect(try HubSettings.fromEnvironment(["HF_HOME": folder.path]).token == "hf_fromfile")
        #expect(try HubSettings.fromEnvironment(["HF_HOME": folder.path, "HF_TOKEN": "hf_env"]).token == "hf_env")
        #expect(throws: HubError.self) { try HubSettings.fromEnvironment(["HF_ENDPOINT": "ftp://x"]) }
    }

    @Test func linksAreRelativeToTheBlobsAndRefsNameTheCommit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = HubCache(root: root)
        let repository = try HubRepository(parsing: "acme/tiny")
        let commit = String(repeating: "a", count: 40)
        #expect(cache.commit(repository) == nil)
        try cache.writeRef(repository, commit: commit)
        #expect(cache.commit(repository) == commit)
        let blob = cache.blob(repository, etag: "e1")
        try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: blob)
        try cache.link(repository, commit: commit, path: "config.json", etag: "e1")
        try cache.link(repository, commit: commit, path: "1_Pooling/config.json", etag: "e1")
        let snapshot = cache.snapshot(repository, commit: commit)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("config.json").path) == "../../blobs/e1")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("1_Pooling/config.json").path) == "../../../blobs/e1")
        #expect(try String(contentsOf: snapshot.appendingPathComponent("1_Pooling/config.json"), encoding: .utf8) == "{}")
        #expect(cache.files(repository, commit: commit) == ["1_Pooling/config.json", "config.json"])
    }

    @Test func downloadsAreCheckedAgainstTheirEtag() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hub-file-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("hello\n".utf8).write(to: file)
        // sha256 and git blob sha1 of "hello\n" (`git hash-object`).
        try FileIntegrity.check(file, etag: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", size: 6)
        try FileIntegrity.check(file, etag: "ce013625030ba8dba906f756967f9e9ca394464a", size: 6)
        try FileIntegrity.check(file, etag: "opaque-mirror-etag", size: 6)
        #expect(throws: HubError.self) { try FileIntegrity.check(file, etag: String(repeating: "0", count: 64), size: 6) }
        #expect(throws: HubError.self) { try FileIntegrity.check(file, etag: "ce013625030ba8dba906f756967f9e9ca394464a", size: 7) }
    }

    @Test func proxiesFollowTheEnvironmentAndNoProxy() {
        let hub = URL(string: "https://huggingface.co")!
        #expect(HubClient.proxy(for: hub, environment: [:]) == nil)
        #expect(HubClient.proxy(for: hub, environment: ["HTTPS_PROXY": "http://proxy:3128"]) != nil)
        #expect(HubClient.proxy(for: hub, environment: ["HTTPS_PROXY": "proxy:3128", "NO_PROXY": "example.com,.huggingface.co"]) == nil)
        #expect(HubClient.proxy(for: URL(string: "http://127.0.0.1:1")!, environment: ["HTTPS_PROXY": "http://proxy:3128"]) == nil)
    }
}
