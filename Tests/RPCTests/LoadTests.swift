import Testing

@testable import RPC

/// Many calls at once, slow readers and vanishing clients: the bridge must neither crash nor lose
/// or reorder messages.
@Suite("Load")
struct LoadTests {
    @Test func manyConcurrentCalls() async throws {
        let live = try LiveServer()
        let clients = try (0..<4).map { _ in try live.client() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                let client = clients[i % clients.count]
                group.addTask {
                    if i % 4 == 0 {
                        let stream = try client.bidiStream("/test.Echo/Stream")
                        for j in 0..<20 { try await stream.send([UInt8(i % 256), UInt8(j)]) }
                        stream.closeSend()
                        var received: [[UInt8]] = []
                        for try await message in stream { received.append(message) }
                        #expect(received == (0..<20).map { [UInt8(i % 256), UInt8($0)] })
                    } else {
                        let request = Array("call \(i)".utf8)
                        #expect(try await client.unary("/test.Echo/Unary", request) == request)
                    }
                }
            }
            try await group.waitForAll()
        }
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func serverStreamingToASlowReader() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let stream = try client.bidiStream("/test.Echo/Count")
        try await stream.send(Array("3000".utf8))
        stream.closeSend()
        var count = 0
        for try await message in stream {
            #expect(message.prefix { $0 != 0 } == Array("\(count)".utf8)[...])
            count += 1
            if count % 500 == 0 { try await Task.sleep(for: .milliseconds(20)) }  // let the server queue fill
        }
        #expect(count == 3000)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func bigResponsesAreBoundedByBytesNotJustCount() async throws {
        // 3 MiB messages: the byte bound (4 MiB) lets one wait in the queue at a time; all arrive.
        let live = try LiveServer(
            { $0.maxSendMessageBytes = 8 << 20 },
            router: { _ in
                var router = Router()
                router.bidiStream("/test.Big/Stream") { _, writer, _ in
                    for i in 0..<6 { try await writer.write([UInt8](repeating: UInt8(i), count: 3 << 20)) }
                }
                return router
            })
        let client = try Client(target: live.target, maxReceiveMessageBytes: 8 << 20)
        let stream = try client.bidiStream("/test.Big/Stream")
        stream.closeSend()
        var firsts: [UInt8] = []
        for try await message in stream {
            #expect(message.count == 3 << 20)
            firsts.append(message[0])
        }
        #expect(firsts == [0, 1, 2, 3, 4, 5])
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func clientThatVanishesMidStream() async throws {
        let live = try LiveServer()
        do {
            let client = try live.client()
            let stream = try client.bidiStream("/test.Echo/Flood")
            _ = try await stream.receive()
            // Both the stream and the client are dropped here while the server keeps writing.
        }
        #expect(await live.probe.waitFor("flood ended: cancelled"), "\(live.probe.all)")
        // The server is still healthy.
        let client = try live.client()
        #expect(try await client.unary("/test.Echo/Unary", [1]) == [1])
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func shutdownWhileFlooding() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let stream = try client.bidiStream("/test.Echo/Flood")
        _ = try await stream.receive()
        await live.server.shutdown(drainDeadline: .milliseconds(100))
        #expect(await live.probe.waitFor("flood ended: cancelled"), "\(live.probe.all)")
        let final = await status { while try await stream.receive() != nil {} }
        #expect(final.code != .ok)
    }
}
