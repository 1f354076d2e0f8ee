import ArgumentParser
import Foundation
import RPC
import SwiftProtobuf

/// How to reach the server; shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Server address host:port. [ROSETTA_ADDRESS]")
    var address: String = ProcessInfo.processInfo.environment["ROSETTA_ADDRESS"] ?? "127.0.0.1:50051"

    @Option(name: .long, help: "PEM file of the CA that signed the server certificate; enables TLS.")
    var tlsCa: String?

    @Option(name: .long, help: "Seconds before a call is abandoned.")
    var timeout: Double = 30

    /// Calls `method` with `request` and decodes the response, turning failures into messages a person can act on.
    func call<Response: SwiftProtobuf.Message>(
        _ method: String, _ request: some SwiftProtobuf.Message, as: Response.Type = Response.self
    ) async throws -> Response {
        let client: Client
        do {
            client = try Client(target: address, tls: tlsCa.map { ClientTLS(rootCertificatesPath: $0) })
        } catch {
            throw CLIError("cannot set up a connection to \(address): \(error.message)")
        }
        do {
            let bytes = try await client.unary(method, try request.serializedBytes(), timeout: .milliseconds(Int(timeout * 1000)))
            return try Response(serializedBytes: bytes)
        } catch let status as RPCStatus {
            switch status.code {
            case .unavailable:
                throw CLIError("cannot reach rosetta-server at \(address): \(status.message)")
            case .deadlineExceeded:
                throw CLIError("rosetta-server at \(address) did not answer within \(timeout) s")
            default:
                throw CLIError("\(method) failed with \(status.code): \(status.message)")
            }
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
