/// Why a model could not be had from the Hub or its cache; each message names what to change.
public enum HubError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidReference(String)
    /// The endpoint did not answer (DNS, refused, timeout, TLS).
    case unreachable(host: String, detail: String)
    /// 401/403: a private or gated repository, or a token without access.
    case unauthorized(repository: String, status: Int, hasToken: Bool)
    /// 404: the repository, the revision or a file does not exist.
    case notFound(what: String)
    case unexpectedResponse(url: String, status: Int, detail: String)
    /// HF_HUB_OFFLINE is set and the cache lacks what is needed.
    case notInCache(repository: String, detail: String, cache: String)
    /// A downloaded file does not match its etag's hash or the announced size.
    case integrity(file: String, detail: String)
    /// The file system refused a write: full, over a size limit, or read-only.
    case storage(path: String, detail: String)
    /// The repository holds no checkpoint this build can serve.
    case unsupported(repository: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidReference(message): message
        case let .unreachable(host, detail):
            "cannot reach the Hugging Face Hub at \(host) (\(detail)); to run without network set HF_HUB_OFFLINE=1 "
                + "(the model must already be in the cache, HF_HUB_CACHE), or point HF_ENDPOINT at a reachable mirror"
        case let .unauthorized(repository, status, hasToken):
            hasToken
                ? "the Hub refused access to \(repository) (HTTP \(status)) with the token in HF_TOKEN: accept the model's terms on its Hub page or use a token with read access to it"
                : "the Hub refused access to \(repository) (HTTP \(status)): it is private or gated; set HF_TOKEN to a token with read access (after accepting the model's terms on its Hub page)"
        case let .notFound(what): "\(what) was not found on the Hub (HTTP 404): check the spelling and the revision"
        case let .unexpectedResponse(url, status, detail): "the Hub answered HTTP \(status) for \(url)\(detail.isEmpty ? "" : ": \(detail)")"
        case let .notInCache(repository, detail, cache):
            "HF_HUB_OFFLINE is set and \(repository) is not complete in the cache \(cache) (\(detail)): download it once with network, or unset HF_HUB_OFFLINE"
        case let .integrity(file, detail): "downloaded \(file) is corrupt (\(detail)); it was discarded: try again"
        case let .storage(path, detail): "cannot write \(path): \(detail)"
        case let .unsupported(repository, detail): "\(repository): \(detail)"
        }
    }
}
