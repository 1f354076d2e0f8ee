import Testing

@testable import RPC

/// A real grpc++ server on 127.0.0.1 (port 0) called through the Swift Client.
@Suite("Live server")
struct LiveServerTests {
    @Test func unaryEcho() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let request: [UInt8] = Array(0...255) + [0, 0, 7]
        #expect(try await client.unary("/test.Echo/Unary", request) == request)
        #expect(try await client.unary("/test.Echo/Unary", []) == [])
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func metadataAndDeadlineReachTheHandler() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let auth = try await client.unary("/test.Echo/Metadata", [], metadata: ["authorization": "Bearer xyz"])
        #expect(String(decoding: auth, as: UTF8.self) == "Bearer xyz")
        let none = try await client.unary("/test.Echo/Metadata", [])
        #expect(String(decoding: none, as: UTF8.self) == "<none>")
        let peer = String(decoding: try await client.unary("/test.Echo/Peer", []), as: UTF8.self)
        #expect(peer.hasPrefix("ipv4:127.0.0.1:"), "\(peer)")
        let binary: [UInt8] = [0, 1, 2, 255, 0, 10]
        let echoed = try await client.unary("/test.Echo/BinaryMetadata", [], metadata: ["trace-bin": Base64.encode(binary)])
        #expect(echoed == binary)
        let invalid = await status { try await _ = client.unary("/test.Echo/Unary", [], metadata: ["bad key": "x"]) }
        #expect(invalid.code == .invalidArgument)
        let deadline = try await client.unary("/test.Echo/Deadline", [], timeout: .seconds(20))
        #expect(String(decoding: deadline, as: UTF8.self) == "ok")
        let noDeadline = try await client.unary("/test.Echo/Deadline", [])
        #expect(String(decoding: noDeadline, as: UTF8.self) == "none")
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func bidiStreamKeepsOrder() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let stream = try client.bidiStream("/test.Echo/Stream")
        let count = 2000
        // Send from one task while receiving in this one: exercises both queues and back-pressure.
        let sender = Task {
            for i in 0..<count { try await stream.send(Array("message \(i)".utf8)) }
            stream.closeSend()
        }
        var received: [String] = []
        for try await message in stream { received.append(String(decoding: message, as: UTF8.self)) }
        try await sender.value
        #expect(received == (0..<count).map { "message \($0)" })
        #expect(await stream.finalStatus() == .ok)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let result = await status { try await _ = client.unary("/x.Y/Z", [1]) }
        #expect(result == RPCStatus(.unimplemented, "unknown method /x.Y/Z"))
        // Unknown method of a known service.
        let sameService = await status { try await _ = client.unary("/test.Echo/Nope", [1]) }
        #expect(sameService.code == .unimplemented)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func handlerErrorsBecomeStatuses() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let thrown = await status { try await _ = client.unary("/test.Echo/Fail", []) }
        #expect(thrown == RPCStatus(.notFound, "nothing here"))
        let other = await status { try await _ = client.unary("/test.Echo/Boom", []) }
        #expect(other == RPCStatus(.internal, "internal error"))
        #expect(await live.probe.waitFor("hook /test.Echo/Boom boom"))
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func unaryMethodNeedsExactlyOneRequest() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let two = try client.bidiStream("/test.Echo/Unary")
        try await two.send([1])
        try await two.send([2])
        two.closeSend()
        let twoStatus = await status { while try await two.receive() != nil {} }
        #expect(twoStatus.code == .internal)
        let zero = try client.bidiStream("/test.Echo/Unary")
        zero.closeSend()
        let zeroStatus = await status { while try await zero.receive() != nil {} }
        #expect(zeroStatus.code == .internal)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func unaryHandlerRunsOnTheThreadThatReadTheRequest() async throws {
        let live = try LiveServer()
        let client = try live.client()
        for _ in 0..<5 {
            #expect(String(decoding: try await client.unary("/test.Echo/Thread", []), as: UTF8.self) == "receiving")
        }
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func unaryCallCancelledBeforeItsRequestEndsNeverReachesTheHandler() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let call = try client.bidiStream("/test.Echo/Hang")
        try await call.send([1])  // no half-close: the bridge is still reading the request
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        #expect(await status { _ = try await call.receive() }.code == .cancelled)
        #expect(try await client.unary("/test.Echo/Unary", [3]) == [3])
        #expect(!live.probe.all.contains("started"), "\(live.probe.all)")
        // Shutdown waits for every call grpc++ started: a call the bridge lost would hold it forever.
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func expiredDeadlineCancelsTheHandler() async throws {
        let live = try LiveServer()
        let client = try live.client()
        _ = try await client.unary("/test.Echo/Unary", [])  // connect first: the deadline is for the handler
        let clock = ContinuousClock()
        let start = clock.now
        // Long enough for the handler to start even while the other suites load both cores (a
        // call whose deadline passes before its handler starts never runs the handler at all).
        let result = await status { try await _ = client.unary("/test.Echo/Hang", [], timeout: .seconds(2)) }
        #expect(result.code == .deadlineExceeded)
        #expect(start.duration(to: clock.now) < .seconds(8))
        #expect(await live.probe.waitFor("cancelled"), "handler Task was not cancelled: \(live.probe.all)")
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func clientCancellationCancelsTheHandler() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let stream = try client.bidiStream("/test.Echo/StreamHang")
        try await stream.send([1])
        #expect(try await stream.receive() == [1])
        stream.cancel()
        let result = await status { _ = try await stream.receive() }
        #expect(result.code == .cancelled)
        #expect(await live.probe.waitFor("cancelled"), "handler Task was not cancelled: \(live.probe.all)")
        #expect(await live.probe.waitFor("write refused"), "\(live.probe.all)")
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func cancellingTheClientTaskCancelsTheCall() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let call = Task { await status { try await _ = client.unary("/test.Echo/Hang", []) } }
        #expect(await live.probe.waitFor("started"))
        call.cancel()
        #expect(await call.value.code == .cancelled)
        #expect(await live.probe.waitFor("cancelled"))
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func messageOverReceiveLimitIsResourceExhausted() async throws {
        let live = try LiveServer { $0.maxReceiveMessageBytes = 1024 }
        let client = try live.client()
        #expect(try await client.unary("/test.Echo/Unary", [UInt8](repeating: 1, count: 1000)).count == 1000)
        let result = await status { try await _ = client.unary("/test.Echo/Unary", [UInt8](repeating: 1, count: 4096)) }
        #expect(result.code == .resourceExhausted)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func responseOverSendLimitIsResourceExhausted() async throws {
        let live = try LiveServer { $0.maxSendMessageBytes = 1024 }
        let client = try live.client()
        #expect(try await client.unary("/test.Echo/Unary", [UInt8](repeating: 1, count: 1000)).count == 1000)
        let result = await status { try await _ = client.unary("/test.Echo/Unary", [UInt8](repeating: 1, count: 4096)) }
        #expect(result.code == .resourceExhausted)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func maxConcurrentStreamsQueuesExtraCalls() async throws {
        let live = try LiveServer {
            $0.maxConcurrentStreams = 1
            $0.keepalive = .init(time: .seconds(10), timeout: .seconds(5), minClientPingInterval: .seconds(1))
        }
        let client = try live.client()
        #expect(try await client.unary("/test.Echo/Unary", [1]) == [1])  // connected, settings received
        let hanging = Task { await status { try await _ = client.unary("/test.Echo/Hang", []) } }
        #expect(await live.probe.waitFor("started"))
        // The connection's only stream is taken: a second call waits for it until its deadline.
        let second = await status { try await _ = client.unary("/test.Echo/Unary", [2], timeout: .milliseconds(300)) }
        #expect(second.code == .deadlineExceeded)
        hanging.cancel()
        #expect(await hanging.value.code == .cancelled)
        // Once the stream is free, calls go through again.
        #expect(try await client.unary("/test.Echo/Unary", [3], timeout: .seconds(5)) == [3])
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func largeMessagesRoundTrip() async throws {
        let live = try LiveServer { $0.maxReceiveMessageBytes = 16 << 20 }
        let client = try Client(target: live.target, maxReceiveMessageBytes: 16 << 20)
        let request = [UInt8](repeating: 0xA5, count: 6 << 20) + Array(0...255)
        #expect(try await client.unary("/test.Echo/Unary", request) == request)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func healthIsPerServiceAndNotServingUntilReady() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let check = "/grpc.health.v1.Health/Check"
        #expect(try await client.unary(check, Proto.healthRequest("")) == Proto.notServing)
        #expect(try await client.unary(check, Proto.healthRequest("test.Echo")) == Proto.notServing)
        live.server.setServing(true, service: "")
        live.server.setServing(true, service: "test.Echo")
        #expect(try await client.unary(check, Proto.healthRequest("")) == Proto.serving)
        #expect(try await client.unary(check, Proto.healthRequest("test.Echo")) == Proto.serving)
        live.server.setServing(false, service: "test.Echo")
        #expect(try await client.unary(check, Proto.healthRequest("test.Echo")) == Proto.notServing)
        #expect(try await client.unary(check, Proto.healthRequest("")) == Proto.serving)
        let unknown = await status { try await _ = client.unary(check, Proto.healthRequest("no.Such")) }
        #expect(unknown.code == .notFound)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func secondListenerAndStartErrors() async throws {
        let live = try LiveServer()
        // The same port again fails to bind.
        let clash = Server(
            configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:\(live.port)"]), router: Router())
        #expect(throws: ServerError.self) { try clash.start() }
        #expect(throws: ServerError.self) { try live.server.start() }
        let twoPorts = Server(
            configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0", "127.0.0.1:0"]), router: Router())
        let ports = try twoPorts.start()
        #expect(ports.count == 2 && ports.allSatisfy { $0 > 0 } && ports[0] != ports[1])
        await twoPorts.shutdown(drainDeadline: .zero)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }
}
