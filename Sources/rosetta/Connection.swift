import ArgumentParser
import Foundation
import RPC
import SwiftProtobuf
import Synchronization

/// How to reach the server; shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Server address host:port. [ROSETTA_ADDRESS]")
    var address: String = ProcessInfo.processInfo.environment["ROSETTA_ADDRESS"] ?? "127.0.0.1:50051"

    @Option(name: .long, help: "PEM file of the CA that signed the server certificate; enables TLS. [ROSETTA_TLS_CA]")
    var tlsCa: String = ProcessInfo.processInfo.environment["ROSETTA_TLS_CA"] ?? ""

    @Option(name: .long, help: "PEM client certificate chain for mutual TLS (with --tls-key). [ROSETTA_TLS_CERT]")
    var tlsCert: String = ProcessInfo.processInfo.environment["ROSETTA_TLS_CERT"] ?? ""

    @Option(name: .long, help: "PEM private key of --tls-cert. [ROSETTA_TLS_KEY]")
    var tlsKey: String = ProcessInfo.processInfo.environment["ROSETTA_TLS_KEY"] ?? ""

    @Option(name: .long, help: "Name to check the server certificate against, instead of the address's host.")
    var tlsServerName: String?

    @Option(name: .long, help: "Bearer token sent as 'authorization: Bearer <token>'. [ROSETTA_TOKEN]")
    var token: String = ProcessInfo.processInfo.environment["ROSETTA_TOKEN"] ?? ""

    @Option(name: .long, help: "Seconds each call may take before it is abandoned (deadline).")
    var timeout: Double = 30

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, not \(timeout)") }
        guard tlsCert.isEmpty == tlsKey.isEmpty else {
            throw ValidationError("--tls-cert and --tls-key go together (mutual TLS needs both)")
        }
    }

    var usesTLS: Bool { !tlsCa.isEmpty || !tlsCert.isEmpty || tlsServerName != nil }

    /// One channel to the server, reused by every call of the command.
    func connect() throws -> Connection {
        let tls = usesTLS
            ? ClientTLS(rootCertificatesPath: tlsCa.nonEmpty, certificateChainPath: tlsCert.nonEmpty, privateKeyPath: tlsKey.nonEmpty,
                        serverNameOverride: tlsServerName)
            : nil
        let client: Client
        do {
            client = try Client(target: address, tls: tls)
        } catch {
            throw CLIError("cannot set up a connection to \(address): \(error.message)")
        }
        var metadata = Metadata()
        if !token.isEmpty { metadata.append("Bearer \(token)", for: "authorization") }
        return Connection(client: client, address: address, timeout: timeout, metadata: metadata)
    }

    /// Connects, makes one call and closes.
    func call<Request, Response>(_ method: Method<Request, Response>, _ request: Request) async throws -> Response {
        try await connect().call(method, request)
    }
}

/// A channel to one server with the per-call settings (deadline, token).
struct Connection: Sendable {
    let client: Client
    let address: String
    let timeout: Double
    let metadata: Metadata

    /// Calls `method` with `request` and decodes the response; failures become `CLIError`s a person can act on.
    func call<Request, Response>(_ method: Method<Request, Response>, _ request: Request) async throws -> Response {
        let bytes: [UInt8]
        do {
            bytes = try await client.unary(
                method.path, try request.serializedBytes(), metadata: metadata,
                timeout: .milliseconds(Int(timeout * 1000)))
        } catch let status as RPCStatus {
            throw CLIError(status, calling: method.path, at: address, timeout: timeout)
        }
        do {
            return try Response(serializedBytes: bytes)
        } catch {
            throw CLIError("\(method.path): the answer could not be decoded (\(error)); is \(address) a rosetta-server?")
        }
    }
}

extension String {
    /// nil for "" (an option left unset).
    var nonEmpty: String? { isEmpty ? nil : self }
}
