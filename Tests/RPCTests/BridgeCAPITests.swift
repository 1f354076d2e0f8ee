import CGRPCBridge
import Foundation
import Testing

@testable import RPC

/// The parts of the C API the Swift module does not use itself, and cross-checks with grpcio.
@Suite("Bridge C API")
struct BridgeCAPITests {
    /// The C unary client call (`rg_client_unary`), which Swift's Client does not use.
    @Test func cUnaryCall() async throws {
        let live = try LiveServer()
        var options = rg_client_options()
        rg_client_options_init(&options)
        let client = try #require(live.target.withCString { target in
            options.target = target
            return rg_client_create(&options, nil, 0)
        })
        defer { rg_client_destroy(client) }

        let echo = await UnaryResult.call(client, "/test.Echo/Unary", [7, 8, 9], timeoutMs: 5000)
        #expect(echo.code == 0 && echo.bytes == [7, 8, 9])
        let failed = await UnaryResult.call(client, "/test.Echo/Fail", [], timeoutMs: 5000)
        #expect(failed.code == RPCStatus.Code.notFound.rawValue && failed.message == "nothing here")
        let expired = await UnaryResult.call(client, "/test.Echo/Hang", [], timeoutMs: 100)
        #expect(expired.code == RPCStatus.Code.deadlineExceeded.rawValue)
        // Metadata grpc would refuse is rejected up front instead of asserting inside grpc++.
        let bad = "Bad Key"
        let rc = bad.withCString { key in
            var entry = rg_metadata(key: key, value: key, value_len: 3)
            return rg_client_unary(client, "/test.Echo/Unary", nil, 0, &entry, 1, -1, { _, _, _, _, _ in }, nil)
        }
        #expect(rc == Int32(RG_ERR_INVALID))
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    /// grpcio's reflection and health clients against our server (set RPC_TEST_PYTHON to a Python
    /// with grpcio, grpcio-reflection and grpcio-health-checking to run it). In a process of its own, since
    /// descriptors are registered before the process's first server starts (see ReflectionTests).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RPC_TEST_PYTHON"] != nil))
    func grpcioReflectionAndHealth() async {
        await #expect(processExitsWith: .success) {
            let live = try LiveServer(
                { $0.fileDescriptorSet = Proto.echoDescriptorSet(package: "test") },
                router: { probe in
                    var router = testRouter(probe: probe)
                    router.unary("/rosetta.v1.Embeddings/Info") { request, _ in request }
                    return router
                })
            live.server.setServing(true, service: "rosetta.v1.Embeddings")
            let script = """
                import sys, grpc
                from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
                from google.protobuf.descriptor_pool import DescriptorPool
                from grpc_health.v1 import health_pb2, health_pb2_grpc
                ch = grpc.insecure_channel(sys.argv[1])
                db = ProtoReflectionDescriptorDatabase(ch)
                print(",".join(sorted(db.get_services())))
                svc = DescriptorPool(db).FindServiceByName("test.Echo")
                print(",".join(f"{m.name}({m.input_type.full_name})" for m in svc.methods))
                h = health_pb2_grpc.HealthStub(ch)
                print(",".join(str(h.Check(health_pb2.HealthCheckRequest(service=s)).status) for s in ["", "rosetta.v1.Embeddings"]))
                """
            let python = ProcessInfo.processInfo.environment["RPC_TEST_PYTHON"] ?? "python3"
            let (exitStatus, text) = try await run(python, ["-c", script, live.target])
            #expect(exitStatus == 0)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines.first?.contains("rosetta.v1.Embeddings") == true)
            #expect(lines.first?.contains("test.Echo") == true)
            #expect(lines.dropFirst().first == "Unary(test.Blob)")  // as test/echo.proto declares it
            #expect(lines.last == "2,1")  // "" NOT_SERVING, Embeddings SERVING
            await live.server.shutdown(drainDeadline: .seconds(1))
        }
    }
}

/// Collects the result of one `rg_client_unary` callback.
final class UnaryResult: Sendable {
    struct Value: Sendable {
        var code: Int32
        var message: String
        var bytes: [UInt8]
    }

    private let continuation: CheckedContinuation<Value, Never>

    private init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = continuation }

    static func call(_ client: OpaquePointer, _ method: String, _ request: [UInt8], timeoutMs: Int64) async -> Value {
        await withCheckedContinuation { continuation in
            let box = Unmanaged.passRetained(UnaryResult(continuation)).toOpaque()
            let rc = request.withUnsafeBufferPointer { buffer in
                rg_client_unary(client, method, buffer.baseAddress, buffer.count, nil, 0, timeoutMs, unaryDone, box)
            }
            if rc != 0 {
                Unmanaged<UnaryResult>.fromOpaque(box).release()
                continuation.resume(returning: Value(code: -1, message: "rc \(rc)", bytes: []))
            }
        }
    }

    fileprivate func resume(_ value: Value) { continuation.resume(returning: value) }
}

private func unaryDone(
    _ user: UnsafeMutableRawPointer?, _ code: Int32, _ message: UnsafePointer<CChar>?, _ bytes: UnsafePointer<UInt8>?,
    _ len: Int
) {
    guard let user else { return }
    let result = Unmanaged<UnaryResult>.fromOpaque(user).takeRetainedValue()
    let data = bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    result.resume(.init(code: code, message: message.map { String(cString: $0) } ?? "", bytes: data))
}
