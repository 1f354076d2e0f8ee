/// Why a call was not authenticated, or why the token file could not be used. Messages never contain a token.
public enum AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingToken
    /// The authorization metadata is not "Bearer <token>".
    case notBearer
    case invalidToken
    case tokenFileUnreadable(path: String, reason: String)
    case tokenFileEmpty(path: String)

    public var description: String {
        switch self {
        case .missingToken:
            "this server requires a bearer token: send the metadata 'authorization: Bearer <token>'"
        case .notBearer:
            "the 'authorization' metadata must be 'Bearer <token>'"
        case .invalidToken:
            "the bearer token is not valid for this server"
        case let .tokenFileUnreadable(path, reason):
            "cannot read the token file \(path): \(reason)"
        case let .tokenFileEmpty(path):
            "the token file \(path) holds no token (one per line; blank lines and # comments are ignored)"
        }
    }
}
