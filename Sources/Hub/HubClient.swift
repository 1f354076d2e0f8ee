import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// A revision of a Hub repository as it will be served: the commit it resolved to, the repository's file list,
/// and the snapshot folder in the cache that files are linked into.
public struct HubRevision: Sendable, Equatable {
    public let repository: HubRepository
    public let commit: String
    public let files: [String]
    public let folder: URL
}

/// Downloads model files from the Hugging Face Hub into the standard cache (`HubCache`), following the protocol
/// huggingface_hub speaks (`file_download.py`, `hf_api.py`):
/// - `GET /api/models/{id}/revision/{revision}`: the commit (`sha`) and the files (`siblings[].rfilename`);
/// - `HEAD /{id}/resolve/{commit}/{path}`, redirects not followed except relative ones (a renamed repository):
///   `X-Linked-Etag` (LFS: the sha256 of the content) or `ETag` (a git blob sha1), `X-Linked-Size` or
///   `Content-Length`, and for LFS files a `Location` on a CDN;
/// - `GET` of the file, with `Range: bytes=<n>-` to resume `blobs/<etag>.incomplete`.
/// The token goes to the endpoint's own host only, never to a redirect target elsewhere. Each file is checked
/// against its etag (sha256 or git sha1) and size before it is renamed into `blobs/`. With `HF_HUB_OFFLINE` the
/// network is never touched; when the endpoint cannot be reached, a complete cached snapshot is served instead.
public final class HubClient: Sendable {
    public let settings: HubSettings
    let cache: HubCache
    let http: HTTPClient
    let progress: @Sendable (String) -> Void

    /// `progress` receives one line per file and download step (the server writes them to stderr).
    public init(settings: HubSettings, progress: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        cache = HubCache(root: settings.cacheDirectory)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(15), read: .seconds(60)))
        configuration.proxy = Self.proxy(for: settings.endpoint)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.progress = progress
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: Revisions

    /// The commit `repository`'s revision points at and its files: from the Hub, else (offline, or the Hub
    /// unreachable) from the cache.
    public func revision(_ repository: HubRepository) async throws(HubError) -> HubRevision {
        if settings.offline {
            guard let cached = cachedRevision(repository) else {
                throw .notInCache(repository: repository.description, detail: "no snapshot for revision \(repository.revision)",
                                  cache: settings.cacheDirectory.path)
            }
            return cached
        }
        do {
            return try await remoteRevision(repository)
        } catch .unreachable(let host, let detail) {
            guard let cached = cachedRevision(repository) else { throw .unreachable(host: host, detail: detail) }
            progress("hub: \(host) unreachable (\(detail)); serving \(repository) from the cache, commit \(cached.commit)")
            return cached
        }
    }

    func cachedRevision(_ repository: HubRepository) -> HubRevision? {
        guard let commit = cache.commit(repository) else { return nil }
        let files = cache.files(repository, commit: commit)
        guard !files.isEmpty else { return nil }
        return HubRevision(repository: repository, commit: commit, files: files, folder: cache.snapshot(repository, commit: commit))
    }

    func remoteRevision(_ repository: HubRepository) async throws(HubError) -> HubRevision {
        let url = endpointURL("api/models/\(repository.id)/revision/\(Self.escaped(repository.revision))")
        let response = try await send(.GET, url, what: "model \(repository)")
        let body = try await collect(response.body, url: url)
        struct Info: Decodable {
            struct Sibling: Decodable { let rfilename: String }
            let sha: String
            let siblings: [Sibling]?
        }
        guard let info = try? JSONDecoder().decode(Info.self, from: body), HubRepository.isCommit(info.sha) else {
            throw .unexpectedResponse(url: url.absoluteString, status: 200, detail: "not a model description with a commit sha")
        }
        try cache.writeRef(repository, commit: info.sha)
        return HubRevision(repository: repository, commit: info.sha, files: (info.siblings ?? []).map(\.rfilename).sorted(),
                           folder: cache.snapshot(repository, commit: info.sha))
    }

    // MARK: Files

    /// The file at `path` of `revision` in the cache's snapshot folder, downloaded first if it is not there.
    @discardableResult
    public func download(_ path: String, of revision: HubRevision) async throws(HubError) -> URL {
        let repository = revision.repository
        let target = revision.folder.appendingPathComponent(path)
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let name = "\(repository) \(path)"
        if settings.offline {
            throw .notInCache(repository: repository.description, detail: "\(path) of commit \(revision.commit) is missing",
                              cache: settings.cacheDirectory.path)
        }
        let file = try await metadata(path, of: revision)
        let blob = cache.blob(repository, etag: file.etag)
        if !FileManager.default.fileExists(atPath: blob.path) {
            let lock = try await FileLock.acquire(cache.lockFile(repository, etag: file.etag))
            defer { lock.release() }
            if !FileManager.default.fileExists(atPath: blob.path) {
                let partial = URL(fileURLWithPath: blob.path + ".incomplete")
                try await fetch(file, into: partial, name: name)
                do {
                    try FileIntegrity.check(partial, etag: file.etag, size: file.size)
                } catch {
                    try? FileManager.default.removeItem(at: partial)
                    throw error
                }
                guard rename(partial.path, blob.path) == 0 else {
                    throw .storage(path: blob.path, detail: POSIXFailure.describe(POSIXFailure(errno: errno)))
                }
            }
        }
        try cache.link(repository, commit: revision.commit, path: path, etag: file.etag)
        return target
    }

    struct FileMetadata {
        let etag: String
        let size: Int?
        let location: URL
    }

    /// HEAD of the file's resolve URL: its etag, size and where its bytes are.
    func metadata(_ path: String, of revision: HubRevision) async throws(HubError) -> FileMetadata {
        let what = "\(path) in \(revision.repository)"
        var url = endpointURL("\(revision.repository.id)/resolve/\(revision.commit)/\(Self.escaped(path, keepSlashes: true))")
        for _ in 0..<5 {
            let response = try await send(.HEAD, url, what: what)
            let headers = response.headers
            var location = url
            if (300..<400).contains(Int(response.status.code)) {
                guard let target = headers.first(name: "Location"), let next = URL(string: target, relativeTo: url)?.absoluteURL else {
                    throw .unexpectedResponse(url: url.absoluteString, status: Int(response.status.code), detail: "a redirect without a Location")
                }
                if target.hasPrefix("/") && headers.first(name: "X-Linked-Etag") == nil {
                    url = next  // a renamed repository: the same request at its new address
                    continue
                }
                location = next
            }
            guard let etag = (headers.first(name: "X-Linked-Etag") ?? headers.first(name: "ETag")).map(Self.normalizedETag), !etag.isEmpty,
                  !etag.contains("/"), etag != ".", etag != ".." else {
                throw .unexpectedResponse(url: url.absoluteString, status: Int(response.status.code), detail: "no ETag for \(what)")
            }
            let size = (headers.first(name: "X-Linked-Size") ?? headers.first(name: "Content-Length")).flatMap { Int($0) }
            return FileMetadata(etag: etag, size: size, location: location)
        }
        throw .unexpectedResponse(url: url.absoluteString, status: 307, detail: "more than 5 redirects")
    }

    /// Downloads `file` into `partial`, resuming from the bytes already there.
    func fetch(_ file: FileMetadata, into partial: URL, name: String) async throws(HubError) {
        do {
            try FileManager.default.createDirectory(at: partial.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .storage(path: partial.deletingLastPathComponent().path, detail: POSIXFailure.describe(error))
        }
        var have = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        if let size = file.size, have > size { have = 0 }
        if let size = file.size, have == size { return }
        let range = have > 0 ? "bytes=\(have)-" : nil
        let response = try await send(.GET, file.location, what: name, range: range, timeout: .hours(24))
        let resumed = response.status == .partialContent
        if range != nil { progress(resumed ? "hub: \(name): resuming at \(Self.megabytes(have))" : "hub: \(name): restarting (no range support)") }
        let output = try AppendingFile(partial, truncate: !resumed)
        defer { output.close() }
        var written = resumed ? have : 0
        var lastReport = ContinuousClock.now
        let total = file.size.map(Self.megabytes) ?? "?"
        progress("hub: \(name): downloading \(total)")
        do {
            for try await buffer in response.body {
                try output.write(buffer)
                written += buffer.readableBytes
                if let size = file.size, written > size {
                    throw HubError.integrity(file: name, detail: "the server sent more than the announced \(size) bytes")
                }
                if ContinuousClock.now - lastReport >= .seconds(1) {
                    lastReport = .now
                    let percent = file.size.map { " (\(written * 100 / max($0, 1))%)" } ?? ""
                    progress("hub: \(name): \(Self.megabytes(written)) of \(total)\(percent)")
                }
            }
        } catch let error as HubError {
            throw error
        } catch let error as POSIXFailure {
            throw .storage(path: partial.path, detail: POSIXFailure.describe(error))
        } catch {
            throw .unreachable(host: Self.host(file.location), detail: "the download broke off at \(Self.megabytes(written)): \(error); run again to resume")
        }
        do { try output.sync() } catch { throw .storage(path: partial.path, detail: POSIXFailure.describe(error)) }
        progress("hub: \(name): \(Self.megabytes(written)) done")
    }

    // MARK: HTTP

    /// Sends a request and maps the Hub's error statuses; the body of a 2xx/3xx answer is the caller's to read.
    /// `timeout` bounds the whole exchange, body included (stalls are cut sooner by the 60 s read timeout).
    func send(_ method: HTTPMethod, _ url: URL, what: String, range: String? = nil,
              timeout: TimeAmount = .seconds(60)) async throws(HubError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "User-Agent", value: "rosetta-server; hf_hub-compatible")
        if let token = settings.token, Self.sameOrigin(url, settings.endpoint) {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let range { request.headers.add(name: "Range", value: range) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw .unreachable(host: Self.host(url), detail: "\(error)")
        }
        let status = Int(response.status.code)
        switch status {
        case 200..<400: return response
        case 401, 403:
            throw .unauthorized(repository: what, status: status, hasToken: settings.token != nil)
        case 404:
            let code = response.headers.first(name: "X-Error-Code") ?? ""
            throw .notFound(what: code == "RevisionNotFound" ? "the revision of \(what)" : what)
        case 416 where range != nil:
            return response
        default:
            let detail = response.headers.first(name: "X-Error-Message") ?? ""
            throw .unexpectedResponse(url: url.absoluteString, status: status, detail: detail)
        }
    }

    func collect(_ body: HTTPClientResponse.Body, url: URL) async throws(HubError) -> Data {
        do {
            return Data(try await body.collect(upTo: 32 << 20).readableBytesView)
        } catch {
            throw .unexpectedResponse(url: url.absoluteString, status: 200, detail: "the body could not be read: \(error)")
        }
    }

    func endpointURL(_ path: String) -> URL {
        URL(string: settings.endpoint.absoluteString + "/" + path) ?? settings.endpoint
    }

    static func escaped(_ text: String, keepSlashes: Bool = false) -> String {
        var allowed = CharacterSet.urlPathAllowed
        if !keepSlashes { allowed.remove("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `W/"abc"` -> `abc`.
    static func normalizedETag(_ text: String) -> String {
        var etag = Substring(text.trimmingCharacters(in: .whitespaces))
        if etag.hasPrefix("W/") { etag = etag.dropFirst(2) }
        return String(etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }

    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        a.scheme == b.scheme && a.host?.lowercased() == b.host?.lowercased() && a.port == b.port
    }

    static func host(_ url: URL) -> String {
        (url.host ?? url.absoluteString) + (url.port.map { ":\($0)" } ?? "")
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    /// HTTPS_PROXY / https_proxy (HTTP_PROXY for an http endpoint), unless NO_PROXY names the endpoint's host.
    static func proxy(for endpoint: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> HTTPClient.Configuration.Proxy? {
        let names = endpoint.scheme == "https" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
        guard let text = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }),
              let url = URL(string: text.contains("://") ? text : "http://\(text)"), let host = url.host else { return nil }
        let bypass = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " .")).lowercased() }.filter { !$0.isEmpty }
        if let endpointHost = endpoint.host?.lowercased(),
           bypass.contains(where: { $0 == "*" || endpointHost == $0 || endpointHost.hasSuffix("." + $0) }) {
            return nil
        }
        return .server(host: host, port: url.port ?? 80)
    }
}
