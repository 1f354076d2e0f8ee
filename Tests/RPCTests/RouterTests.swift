import Testing

@testable import RPC

/// The router in process: no socket (what Service tests use).
@Suite("Router in process")
struct RouterTests {
    @Test func unaryAndStreamingRunInProcess() async throws {
        let router = testRouter(probe: Probe())
        let echo = await router.handle(method: "/test.Echo/Unary", requests: [[1, 2]])
        #expect(echo.status == .ok && echo.responses == [[1, 2]])
        let stream = await router.handle(method: "/test.Echo/Stream", requests: [[1], [2], [3]])
        #expect(stream.status == .ok && stream.responses == [[1], [2], [3]])
    }

    @Test func errorsMapToStatuses() async throws {
        let probe = Probe()
        let router = testRouter(probe: probe)
        #expect(await router.handle(method: "/a.B/C", requests: [[]]).status == RPCStatus(.unimplemented, "unknown method /a.B/C"))
        #expect(await router.handle(method: "/test.Echo/Fail", requests: [[]]).status == RPCStatus(.notFound, "nothing here"))
        #expect(await router.handle(method: "/test.Echo/Boom", requests: [[]]).status == RPCStatus(.internal, "internal error"))
        #expect(probe.all.contains("hook /test.Echo/Boom boom"))
        #expect(await router.handle(method: "/test.Echo/Unary", requests: []).status.code == .internal)
        #expect(await router.handle(method: "/test.Echo/Unary", requests: [[1], [2]]).status.code == .internal)
    }

    @Test func contextReachesTheHandler() async throws {
        let router = testRouter(probe: Probe())
        let context = CallContext(method: "/test.Echo/Metadata", metadata: ["Authorization": "t"])
        let result = await router.handle(method: "/test.Echo/Metadata", requests: [[]], context: context)
        #expect(result.responses == [Array("t".utf8)])
        #expect(router.methods.contains("/test.Echo/Stream"))
    }

    @Test func metadataLooksUpCaseInsensitively() {
        var metadata: Metadata = ["X-Key": "a"]
        metadata.append("b", for: "x-key")
        #expect(metadata["x-key"] == "a")
        #expect(metadata.values(for: "X-KEY") == ["a", "b"])
        #expect(metadata.count == 2)
        #expect(Base64.encode(Array("hello!?".utf8)) == "aGVsbG8hPw==")
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 3) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.decode("not base64!") == nil)
    }
}
