import Testing

@testable import RPC

/// StreamCore's bookkeeping without a bridge: fake requestRead/send closures.
@Suite("StreamCore")
struct StreamCoreTests {
    final class FakeBridge: Sendable {
        let sent = Mutex<[[UInt8]]>([])
        let readRequests = Mutex(0)
        let open = Mutex(true)

        func core(maxInFlight: Int = 2, maxInFlightBytes: Int = 100, readAhead: Bool = false) -> StreamCore {
            StreamCore(
                maxInFlight: maxInFlight, maxInFlightBytes: maxInFlightBytes, readAhead: readAhead,
                requestRead: {
                    self.readRequests.withLock { $0 += 1 }
                    return self.open.withLock { $0 }
                },
                send: { bytes in
                    guard self.open.withLock({ $0 }) else { return false }
                    self.sent.withLock { $0.append(bytes) }
                    return true
                })
        }
    }

    @Test func writesSuspendWhenTheQueueIsFullAndResumeInOrder() async throws {
        let bridge = FakeBridge()
        let core = bridge.core(maxInFlight: 2)
        try await core.write([1])
        try await core.write([2])
        let third = Task { try await core.write([3]) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(bridge.sent.withLock { $0 } == [[1], [2]])  // the third waits
        core.written()
        try await third.value
        #expect(bridge.sent.withLock { $0 } == [[1], [2], [3]])
    }

    @Test func byteBoundAdmitsOneOversizedMessageAtATime() async throws {
        let bridge = FakeBridge()
        let core = bridge.core(maxInFlight: 10, maxInFlightBytes: 100)
        try await core.write([UInt8](repeating: 0, count: 300))  // alone: always admitted
        let second = Task { try await core.write([UInt8](repeating: 1, count: 10)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(bridge.sent.withLock { $0.count } == 1)
        core.written()
        try await second.value
        #expect(bridge.sent.withLock { $0.count } == 2)
    }

    @Test func closeFailsWaitingWritersAndReaders() async throws {
        let bridge = FakeBridge()
        let core = bridge.core(maxInFlight: 1)
        try await core.write([1])
        let writer = Task { () async -> RPCStatus? in
            do throws(RPCStatus) { try await core.write([2]) } catch { return error }
            return nil
        }
        let reader = Task { () async -> RPCStatus? in
            do throws(RPCStatus) { _ = try await core.read() } catch { return error }
            return nil
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(bridge.readRequests.withLock { $0 } == 1)
        let gone = RPCStatus(.cancelled, "gone")
        core.close(readFailure: gone, writeFailure: gone)
        #expect(await writer.value == gone)
        #expect(await reader.value == gone)
    }

    @Test func readsDeliverMessagesThenEnd() async throws {
        let bridge = FakeBridge()
        let core = bridge.core()
        let first = Task { try await core.read() }
        try await Task.sleep(for: .milliseconds(20))
        core.received([9])
        #expect(try await first.value == [9])
        let second = Task { try await core.read() }
        try await Task.sleep(for: .milliseconds(20))
        core.readEnded()
        #expect(try await second.value == nil)
        #expect(try await core.read() == nil)  // stays ended, no new request
        #expect(bridge.readRequests.withLock { $0 } == 2)
    }

    @Test func readAheadKeepsOneMessageAskedForOrBuffered() async throws {
        let bridge = FakeBridge()
        let core = bridge.core(readAhead: true)
        core.startReading()
        #expect(bridge.readRequests.withLock { $0 } == 1)
        core.received([1])  // before anyone reads: kept, and nothing more is asked for while it waits
        #expect(bridge.readRequests.withLock { $0 } == 1)
        #expect(try await core.read() == [1])
        #expect(bridge.readRequests.withLock { $0 } == 2)  // taking it asked for the next one
        let second = Task { try await core.read() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(bridge.readRequests.withLock { $0 } == 2)  // the waiting reader uses the read already asked for
        core.received([2])
        #expect(try await second.value == [2])
        #expect(bridge.readRequests.withLock { $0 } == 3)
        core.readEnded()
        #expect(try await core.read() == nil)
        #expect(bridge.readRequests.withLock { $0 } == 3)
    }

    @Test func aRefusedReadWaitsForTheEndEvent() async throws {
        let bridge = FakeBridge()
        bridge.open.withLock { $0 = false }
        let core = bridge.core()
        let read = Task { try await core.read() }
        try await Task.sleep(for: .milliseconds(20))
        core.close(readFailure: nil, writeFailure: RPCStatus(.cancelled, "done"))  // clean end
        #expect(try await read.value == nil)
    }

    @Test func cancellingTheReadingTaskEndsTheRead() async throws {
        let core = FakeBridge().core()
        let read = Task { () async -> RPCStatus? in
            do throws(RPCStatus) { _ = try await core.read() } catch { return error }
            return nil
        }
        try await Task.sleep(for: .milliseconds(20))
        read.cancel()
        #expect(await read.value?.code == .cancelled)
    }
}
