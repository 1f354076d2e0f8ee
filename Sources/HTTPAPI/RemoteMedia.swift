import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Service

/// Fetches the images that `image_url` content parts name by http(s) URL. Off unless the operator enables it
/// (`rosetta-server --remote-media`): a server that fetches URLs for its callers can be made to reach whatever its
/// own network can (server-side request forgery). The guards, after OWASP's SSRF prevention cheat sheet:
/// - only `http` and `https`;
/// - the host is resolved here, and every address it resolves to must be public — not loopback, private
///   (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254), shared (CGNAT), multicast,
///   reserved, documentation or unspecified, nor such an IPv4 address inside IPv6 (mapped, NAT64) — unless
///   `allowPrivateNetworks` (`--remote-media-allow-private`);
/// - the connection goes to the address that was checked (AsyncHTTPClient's `dnsOverride`: a second lookup
///   cannot rebind the name), with TLS still verified against the host name;
/// - redirects are followed here, at most `maximumRedirects`, each target checked like the first URL;
/// - each URL within `timeout`, body included; no proxy from the environment;
/// - the bodies of one request together at most `maximumBytes` (the bytes an inline request body may hold), so
///   a request of URLs costs no more memory than the same request with the images inline.
public struct RemoteMedia: Sendable {
    public var allowPrivateNetworks: Bool
    public var timeout: Duration
    public var maximumBytes: Int
    public var maximumRedirects = 3

    public init(allowPrivateNetworks: Bool = false, timeout: Duration = .seconds(10), maximumBytes: Int = 16 << 20) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.timeout = timeout
        self.maximumBytes = maximumBytes
    }

    /// The body and content type of the image at `url`, following redirects. `budget` is what is left of
    /// `maximumBytes` for this request; the body's size is taken from it.
    func fetch(_ url: URL, name: String, budget: inout Int) async throws(ServiceError) -> (body: Data, mimeType: String) {
        var current = url
        for _ in 0...maximumRedirects {
            let (host, address) = try await checkedAddress(current, name: name)
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.dnsOverride = [host: address]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let outcome: Result<Step, ServiceError>
            do {
                outcome = .success(try await step(client, current, name: name, budget: &budget))
            } catch {
                outcome = .failure(error)
            }
            try? await client.shutdown()
            switch try outcome.get() {
            case .image(let body, let mimeType): return (body, mimeType)
            case .redirect(let target): current = target
            }
        }
        throw .invalidArgument("\(name): \(url.absoluteString) redirects more than \(maximumRedirects) times")
    }

    private enum Step {
        case image(Data, mimeType: String)
        case redirect(URL)
    }

    private func step(_ client: HTTPClient, _ url: URL, name: String, budget: inout Int) async throws(ServiceError) -> Step {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "user-agent", value: "rosetta-server")
        request.headers.add(name: "accept", value: "image/*")
        let started = ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, deadline: deadline)
            if [301, 302, 303, 307, 308].contains(response.status.code) {
                guard let location = response.headers.first(name: "location"),
                      let target = URL(string: location, relativeTo: url)?.absoluteURL else {
                    throw ServiceError.invalidArgument("\(name): \(url.absoluteString) answered \(response.status.code) without a usable Location")
                }
                return .redirect(target)
            }
            guard (200..<300).contains(response.status.code) else {
                throw ServiceError.invalidArgument("\(name): \(url.absoluteString) answered HTTP \(response.status.code) \(response.status.reasonPhrase); give a URL that serves the image, or send it inline as a data URI")
            }
            if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > budget {
                throw tooLarge(url, name: name)
            }
            var body = Data()
            for try await chunk in response.body {
                guard chunk.readableBytes <= budget - body.count else { throw tooLarge(url, name: name) }
                body.append(contentsOf: chunk.readableBytesView)
            }
            guard !body.isEmpty else { throw ServiceError.invalidArgument("\(name): \(url.absoluteString) answered with an empty body") }
            budget -= body.count
            let mimeType = response.headers.first(name: "content-type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return .image(body, mimeType: mimeType)
        } catch let error as ServiceError {
            throw error
        } catch {
            // The deadline cuts the exchange wherever it is, so the error it causes varies (deadlineExceeded
            // before the head, a stream ended early in the body): the clock tells.
            if ContinuousClock.now - started >= timeout {
                throw .invalidArgument("\(name): \(url.absoluteString) did not answer in full within \(timeout) (--remote-media-timeout)")
            }
            throw .invalidArgument("\(name): fetching \(url.absoluteString) failed: \(error)")
        }
    }

    private func tooLarge(_ url: URL, name: String) -> ServiceError {
        .invalidArgument("\(name): \(url.absoluteString) is larger than the \(maximumBytes) bytes the images of one request may have together")
    }

    /// The URL's host and the one address to connect to, after checking the scheme and every address the host
    /// resolves to.
    private func checkedAddress(_ url: URL, name: String) async throws(ServiceError) -> (host: String, address: String) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .invalidArgument("\(name): only http and https URLs are fetched, not \(url.absoluteString)")
        }
        guard var host = url.host, !host.isEmpty else { throw .invalidArgument("\(name): \(url.absoluteString) has no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let lookup = host
        let addresses: [[UInt8]]
        do {
            addresses = try await NIOThreadPool.singleton.runIfActive { try Self.resolve(lookup) }
        } catch {
            throw .invalidArgument("\(name): the host \(host) of \(url.absoluteString) could not be resolved (\(error))")
        }
        guard let first = addresses.first else { throw .invalidArgument("\(name): the host \(host) has no address") }
        if !allowPrivateNetworks, let address = addresses.first(where: { !Self.isPublic($0) }) {
            throw .invalidArgument("\(name): \(host) resolves to \(Self.format(address)), a loopback, private or reserved address, which this server does not fetch from (its operator can allow it with --remote-media-allow-private)")
        }
        return (host, Self.format(first))
    }

    struct ResolutionError: Error, CustomStringConvertible {
        let description: String
    }

    /// The IPv4 (4 bytes) and IPv6 (16 bytes) addresses of `host` (a name or an address literal).
    static func resolve(_ host: String) throws -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw ResolutionError(description: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var entry = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                addresses.append(withUnsafeBytes(of: address) { Array($0) })
            } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                addresses.append(withUnsafeBytes(of: address) { Array($0) })
            }
            entry = info.ai_next
        }
        return addresses
    }

    /// Whether an IPv4 (4 bytes) or IPv6 (16 bytes) address is globally routable (IANA's special-purpose
    /// registries: RFC 6890 and its updates).
    static func isPublic(_ address: [UInt8]) -> Bool {
        switch address.count {
        case 4:
            let (a, b, c) = (address[0], address[1], address[2])
            return !(a == 0 || a == 10 || a == 127 || a >= 224            // this network, private, loopback, multicast + reserved
                || (a == 100 && b & 0xC0 == 64)                           // 100.64/10 shared (CGNAT)
                || (a == 169 && b == 254)                                 // link-local, cloud metadata
                || (a == 172 && b & 0xF0 == 16)                           // 172.16/12 private
                || (a == 192 && b == 168)                                 // private
                || (a == 192 && b == 0 && (c == 0 || c == 2))             // IETF protocol assignments, TEST-NET-1
                || (a == 198 && (b & 0xFE) == 18)                         // 198.18/15 benchmarking
                || (a == 198 && b == 51 && c == 100)                      // TEST-NET-2
                || (a == 203 && b == 0 && c == 113))                      // TEST-NET-3
        case 16:
            let prefix = address.prefix(12)
            if prefix.allSatisfy({ $0 == 0 }) { return false }            // ::, ::1, IPv4-compatible
            if prefix.prefix(10).allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
                return isPublic(Array(address.suffix(4)))                 // ::ffff:a.b.c.d
            }
            if Array(prefix) == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
                return isPublic(Array(address.suffix(4)))                 // 64:ff9b::/96 NAT64
            }
            let (a, b) = (address[0], address[1])
            return !(a == 0xFF                                            // multicast
                || a & 0xFE == 0xFC                                       // fc00::/7 unique local
                || (a == 0xFE && b & 0xC0 == 0x80)                        // fe80::/10 link-local
                || (a == 0xFE && b & 0xC0 == 0xC0)                        // fec0::/10 site-local (deprecated)
                || (a == 0x20 && b == 0x01 && address[2] == 0x0D && address[3] == 0xB8) // 2001:db8::/32 documentation
                || (a == 0x01 && b == 0 && address[2...7].allSatisfy { $0 == 0 }))      // 100::/64 discard
        default:
            return false
        }
    }

    static func format(_ address: [UInt8]) -> String {
        let family = address.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        return address.withUnsafeBytes { bytes in
            inet_ntop(family, bytes.baseAddress, &text, socklen_t(text.count)).map { String(cString: $0) } ?? "?"
        }
    }
}
