import Foundation
import Synchronization
import Testing

@testable import RPC

/// Events handlers report to the test (e.g. "cancelled"), awaited with a time limit.
final class Probe: Sendable {
    private let events = Mutex<[String]>([])

    func report(_ event: String) { events.withLock { $0.append(event) } }

    var all: [String] { events.withLock { $0 } }

    /// Whether `event` is reported within `limit`: polls every 5 ms and gives up after `limit / 5 ms` polls, so a
    /// test starved of threads by other suites does not time out early.
    func waitFor(_ event: String, within limit: Duration = .seconds(10)) async -> Bool {
        for _ in 0..<max(1, Int(limit / .milliseconds(5))) {
            if all.contains(event) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return all.contains(event)
    }
}

enum TestError: Error { case boom }

/// The router every live test serves.
func testRouter(probe: Probe) -> Router {
    var router = Router()
    router.unary("/test.Echo/Unary") { request, _ in request }
    router.unary("/test.Echo/Metadata") { _, context in
        Array((context.metadata["authorization"] ?? "<none>").utf8)
    }
    router.unary("/test.Echo/Peer") { _, context in Array(context.peer.utf8) }
    router.unary("/test.Echo/BinaryMetadata") { _, context in
        Base64.decode(context.metadata["trace-bin"] ?? "") ?? []
    }
    router.unary("/test.Echo/Deadline") { _, context in
        guard let deadline = context.deadline else { return Array("none".utf8) }
        let left = ContinuousClock.now.duration(to: deadline)
        return Array((left > .zero && left <= .seconds(30) ? "ok" : "bad \(left)").utf8)
    }
    // Where the handler runs: "receiving" on the grpc++ thread that read the request (no hop), "pool" elsewhere.
    router.unary("/test.Echo/Thread") { _, _ in Array((ReceivingThread.isCurrent ? "receiving" : "pool").utf8) }
    router.unary("/test.Echo/Fail") { _, _ in throw RPCStatus(.notFound, "nothing here") }
    router.unary("/test.Echo/Boom") { _, _ in throw TestError.boom }
    // Runs until cancelled, then reports it.
    router.unary("/test.Echo/Hang") { _, _ in
        probe.report("started")
        let start = ContinuousClock.now
        while !Task.isCancelled, start.duration(to: .now) < .seconds(20) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        probe.report(Task.isCancelled ? "cancelled" : "not cancelled")
        return []
    }
    // Takes a while, then answers (graceful shutdown).
    router.unary("/test.Echo/Slow") { request, _ in
        probe.report("started")
        try await Task.sleep(for: .milliseconds(400))
        return request
    }
    // Server streaming: the request is a count N (decimal); answers N numbered messages.
    router.bidiStream("/test.Echo/Count") { requests, writer, _ in
        var iterator = requests.makeAsyncIterator()
        guard let first = try await iterator.next(), let n = Int(String(decoding: first, as: UTF8.self)) else {
            throw RPCStatus(.invalidArgument, "want a count")
        }
        for i in 0..<n { try await writer.write(Array("\(i)".utf8) + [UInt8](repeating: 0, count: 512)) }
    }
    // Writes until the call is gone; reports how writing ended.
    router.bidiStream("/test.Echo/Flood") { _, writer, _ in
        probe.report("started")
        do throws(RPCStatus) {
            while true { try await writer.write([UInt8](repeating: 7, count: 4096)) }
        } catch {
            probe.report("flood ended: \(error.code)")
            throw error
        }
    }
    router.bidiStream("/test.Echo/Stream") { requests, writer, _ in
        for try await message in requests { try await writer.write(message) }
    }
    // Echoes the first message, then works (not reading) until its Task is cancelled.
    router.bidiStream("/test.Echo/StreamHang") { requests, writer, _ in
        probe.report("started")
        var iterator = requests.makeAsyncIterator()
        if let first = try await iterator.next() { try await writer.write(first) }
        let start = ContinuousClock.now
        while !Task.isCancelled, start.duration(to: .now) < .seconds(20) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        probe.report(Task.isCancelled ? "cancelled" : "not cancelled")
        // Writing after cancellation fails, and must not crash.
        probe.report(await status { try await writer.write([1]) }.code == .cancelled ? "write refused" : "write accepted")
    }
    router.errorMapper = { method, error in
        probe.report("hook \(method) \(error)")
        return RPCStatus(.internal, "internal error")
    }
    return router
}

/// A started server on 127.0.0.1 with a free port, and a client for it.
struct LiveServer {
    let server: Server
    let port: Int
    let probe: Probe

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }, router: ((Probe) -> Router)? = nil) throws {
        var configuration = ServerConfiguration(listenAddresses: ["127.0.0.1:0"])
        configure(&configuration)
        let probe = Probe()
        server = Server(configuration: configuration, router: (router ?? testRouter)(probe))
        let ports = try server.start()
        try #require(ports.count == 1 && ports[0] > 0)
        port = ports[0]
        self.probe = probe
    }

    var target: String { "127.0.0.1:\(port)" }

    func client(tls: ClientTLS? = nil) throws -> Client {
        try Client(target: tls == nil ? target : "localhost:\(port)", tls: tls)
    }
}

/// Runs a call and returns its status (OK when it returned).
func status(of call: () async throws -> Void) async -> RPCStatus {
    do {
        try await call()
        return .ok
    } catch let status as RPCStatus {
        return status
    } catch {
        return RPCStatus(.unknown, "not an RPCStatus: \(error)")
    }
}

/// A temporary directory removed at deinit.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "rpc-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A self-signed certificate for localhost/127.0.0.1: (certificate path, key path).
    func selfSignedCertificate(name: String) async throws -> (String, String) {
        let cert = "\(path)/\(name).pem", key = "\(path)/\(name)-key.pem"
        let (status, _) = try await run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        try #require(status == 0, "openssl failed")
        return (cert, key)
    }
}

/// Runs a program to completion on a Dispatch thread (never blocking the cooperative pool, which
/// the server's handlers share) and returns its exit status and standard output.
func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
        }
    }
}

// Hand-encoded protobuf for the grpc.health.v1 and reflection messages the tests send.
enum Proto {
    /// A length-delimited field (wire type 2) holding `bytes`.
    static func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        precondition(bytes.count < 128)
        return [number << 3 | 2, UInt8(bytes.count)] + bytes
    }

    static func healthRequest(_ service: String) -> [UInt8] { field(1, Array(service.utf8)) }

    static let serving: [UInt8] = [0x08, 0x01]
    static let notServing: [UInt8] = [0x08, 0x02]
}

extension Array where Element == UInt8 {
    func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
