import Foundation
import RPC
import Synchronization

/// The bearer tokens a server accepts, read from a token file: one token per line; blank lines and lines
/// starting with "#" are ignored, and spaces around a token are not part of it.
///
/// A call must carry `authorization: Bearer <token>` with one of them. Tokens are compared in time that
/// depends only on the length of what the client sent (never on how much of a token matched, nor on which
/// token), and no token, sent or accepted, is ever written to a log or an error message.
public final class BearerTokens: Sendable {
    private let tokens: Mutex<[[UInt8]]>
    public let path: String

    /// Reads `path`; fails when it cannot be read or holds no token.
    public init(path: String) throws(AuthError) {
        self.path = path
        self.tokens = Mutex(try Self.read(path))
    }

    /// Number of tokens accepted now.
    public var count: Int { tokens.withLock { $0.count } }

    /// Reads the file again (on SIGHUP). On an error the tokens accepted so far stay in force.
    public func reload() throws(AuthError) {
        let fresh = try Self.read(path)
        tokens.withLock { $0 = fresh }
    }

    /// Throws `AuthError` unless `metadata` carries one of the tokens.
    public func authenticate(_ metadata: Metadata) throws(AuthError) {
        guard let header = metadata["authorization"] else { throw .missingToken }
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else {
            throw .notBearer
        }
        let presented = Array(header.utf8.dropFirst(scheme.utf8.count))
        let accepted = tokens.withLock { tokens in
            // Every token is compared, without early exit.
            tokens.reduce(false) { found, token in Self.constantTimeEqual(presented, token) || found }
        }
        guard accepted else { throw .invalidToken }
    }

    /// Compares every byte of `presented` whatever the contents; a length mismatch is folded into the result
    /// rather than returned early.
    static func constantTimeEqual(_ presented: [UInt8], _ token: [UInt8]) -> Bool {
        guard !token.isEmpty else { return false }
        var difference = UInt64(presented.count ^ token.count)
        for i in presented.indices {
            difference |= UInt64(presented[i] ^ token[i % token.count])
        }
        return difference == 0
    }

    static func parse(_ text: String) -> [[UInt8]] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map { Array($0.utf8) }
    }

    private static func read(_ path: String) throws(AuthError) -> [[UInt8]] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .tokenFileUnreadable(path: path, reason: "\(error.localizedDescription)")
        }
        let tokens = parse(text)
        guard !tokens.isEmpty else { throw .tokenFileEmpty(path: path) }
        return tokens
    }
}

extension Router {
    /// Requires one of `tokens` on every call this router runs. (Health and reflection are served by
    /// grpc++ itself, outside the router, and stay open.)
    public mutating func requireBearerToken(_ tokens: BearerTokens) {
        authenticator = { context in try tokens.authenticate(context.metadata) }
    }
}
