import RPC

/// rosetta.v1.Index. The vector index is built in a later step (see the index issue); until then every
/// method answers UNIMPLEMENTED with a message that says so, rather than failing as an unknown method.
public struct IndexService: Sendable {
    public static let serviceName = "rosetta.v1.Index"
    static let unaryMethods = ["CreateCollection", "DeleteCollection", "ListCollections", "Upsert", "Delete", "Get", "Search"]

    public init() {}

    public func register(in router: inout Router) {
        for method in Self.unaryMethods {
            router.unary("/\(Self.serviceName)/\(method)") { _, _ in throw Self.notYet(method) }
        }
        router.bidiStream("/\(Self.serviceName)/UpsertStream") { _, _, _ in throw Self.notYet("UpsertStream") }
    }

    private static func notYet(_ method: String) -> RPCStatus {
        RPCStatus(mapping: ServiceError.unimplemented(
            "\(serviceName)/\(method) is not available in this server version: the vector index is not built yet"
        ))
    }
}
