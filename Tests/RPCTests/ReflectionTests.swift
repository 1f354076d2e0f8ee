import Testing

@testable import RPC

/// grpc++ reflection through the bridge: it lists the router's services and describes only the .proto files
/// given in `ServerConfiguration.fileDescriptorSet`.
@Suite("Reflection")
struct ReflectionTests {
    static let reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

    @Test func listsServicesAndDescribesNoMessageOfItsOwn() async throws {
        let live = try LiveServer(router: { probe in
            var router = testRouter(probe: probe)
            router.unary("/rosetta.v1.Embeddings/Embed") { request, _ in request }
            return router
        })
        let stream = try live.client().bidiStream(Self.reflection)
        try await stream.send(Proto.field(7, "*"))  // list_services
        let list = try #require(try await stream.receive())
        #expect(list.contains("rosetta.v1.Embeddings"))
        #expect(list.contains("test.Echo"))
        #expect(list.contains("grpc.health.v1.Health"))
        try await stream.send(Proto.field(4, "rosetta.v1.Embeddings"))  // file_containing_symbol
        let answer = try #require(try await stream.receive())
        #expect(answer.contains("Symbol not found"))  // error_response: no descriptor set was given
        stream.closeSend()
        #expect(try await stream.receive() == nil)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func refusesBytesThatAreNoDescriptorSet() {
        let server = Server(
            configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0"], fileDescriptorSet: [0xff, 0xff]),
            router: Router())
        let error = #expect(throws: ServerError.self) { try server.start() }
        #expect("\(error, default: "none")".contains("not a serialized google.protobuf.FileDescriptorSet"))
        #expect(server.state == .idle)
    }

    // Descriptors are registered process-wide before the first server starts, and the other suites start
    // servers in parallel: this test runs in a process of its own.
    @Test func describesTheGivenDescriptorSet() async {
        await #expect(processExitsWith: .success) {
            let live = try LiveServer { $0.fileDescriptorSet = Proto.echoDescriptorSet(package: "test") }
            let stream = try live.client().bidiStream(ReflectionTests.reflection)
            try await stream.send(Proto.field(4, "test.Echo"))  // file_containing_symbol
            let file = try #require(try await stream.receive())
            #expect(file.contains("test/echo.proto"))
            #expect(file.contains(".test.Blob"))
            stream.closeSend()
            #expect(try await stream.receive() == nil)

            // The same set again is fine; a new file once a server has started is refused.
            let again = try LiveServer { $0.fileDescriptorSet = Proto.echoDescriptorSet(package: "test") }
            let late = Server(
                configuration: ServerConfiguration(
                    listenAddresses: ["127.0.0.1:0"], fileDescriptorSet: Proto.echoDescriptorSet(package: "late")),
                router: Router())
            let error = #expect(throws: ServerError.self) { try late.start() }
            #expect("\(error, default: "none")".contains("before the first server starts"))
            await again.server.shutdown(drainDeadline: .seconds(1))
            await live.server.shutdown(drainDeadline: .seconds(1))
        }
    }
}

extension Proto {
    static func field(_ number: UInt8, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }

    /// A varint field (wire type 0) holding `value` (< 128).
    static func varint(_ number: UInt8, _ value: UInt8) -> [UInt8] { [number << 3, value] }

    /// A google.protobuf.FileDescriptorSet of one proto3 file, `<package>/echo.proto`:
    /// `message Blob { bytes data = 1; } service Echo { rpc Unary(Blob) returns (Blob); }`.
    static func echoDescriptorSet(package: String) -> [UInt8] {
        let data = field(1, "data") + varint(3, 1) + varint(4, 1) + varint(5, 12)  // number 1, optional, bytes
        let blob = field(1, "Blob") + field(2, data)
        let unary = field(1, "Unary") + field(2, ".\(package).Blob") + field(3, ".\(package).Blob")
        let echo = field(1, "Echo") + field(2, unary)
        // FileDescriptorProto: name, package, message_type, service, syntax.
        let file = field(1, "\(package)/echo.proto") + field(2, package) + field(4, blob) + field(6, echo)
            + field(12, "proto3")
        return field(1, file)
    }
}
