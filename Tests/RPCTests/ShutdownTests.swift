import Testing

@testable import RPC

@Suite("Server lifecycle")
struct ShutdownTests {
    @Test func gracefulShutdownDrainsInFlightCalls() async throws {
        let live = try LiveServer()
        let client = try live.client()
        live.server.setServing(true, service: "")
        let call = Task { try await client.unary("/test.Echo/Slow", [42]) }
        #expect(await live.probe.waitFor("started"))
        #expect(live.server.state == .running)
        // A deadline far beyond the handler's 400 ms: in a full `swift test` the cooperative pool that resumes the
        // handler can be held for seconds by CPU-bound tests, and this test is about draining, not speed.
        await live.server.shutdown(drainDeadline: .seconds(600))
        #expect(live.server.state == .stopped)
        // The call that was running when shutdown began finished normally.
        #expect(try await call.value == [42])
        // New calls are refused.
        let after = await status { try await _ = client.unary("/test.Echo/Unary", [1], timeout: .seconds(2)) }
        #expect(after.code == .unavailable || after.code == .deadlineExceeded)
        await live.server.wait()  // returns at once: stopped
    }

    @Test func shutdownCancelsCallsPastTheDrainDeadline() async throws {
        let live = try LiveServer()
        let client = try live.client()
        let call = Task { await status { try await _ = client.unary("/test.Echo/Hang", []) } }
        #expect(await live.probe.waitFor("started"))
        let clock = ContinuousClock()
        let start = clock.now
        await live.server.shutdown(drainDeadline: .milliseconds(200))
        #expect(start.duration(to: clock.now) < .seconds(5))
        #expect(await live.probe.waitFor("cancelled"), "handler Task was not cancelled: \(live.probe.all)")
        let result = await call.value
        #expect(result.code != .ok)
    }

    @Test func waitReturnsAfterShutdownFromAnotherTask() async throws {
        let live = try LiveServer()
        let waiter = Task { await live.server.wait() }
        try await Task.sleep(for: .milliseconds(50))
        await live.server.shutdown(drainDeadline: .zero)
        await waiter.value
        #expect(live.server.state == .stopped)
        // A second shutdown is harmless.
        await live.server.shutdown(drainDeadline: .zero)
    }

    @Test func serverNeverStartedShutsDown() async throws {
        let server = Server(configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0"]), router: Router())
        #expect(server.state == .idle)
        await server.shutdown(drainDeadline: .zero)
        #expect(server.state == .stopped)
        #expect(throws: ServerError.self) { try server.start() }
    }

    @Test func servingStatusSetBeforeStartApplies() async throws {
        let probe = Probe()
        let server = Server(
            configuration: ServerConfiguration(listenAddresses: ["127.0.0.1:0"]), router: testRouter(probe: probe))
        server.setServing(true, service: "")
        let port = try #require(try server.start().first)
        let client = try Client(target: "127.0.0.1:\(port)")
        #expect(try await client.unary("/grpc.health.v1.Health/Check", Proto.healthRequest("")) == Proto.serving)
        await server.shutdown(drainDeadline: .seconds(1))
    }
}

@Suite("TLS")
struct TLSTests {
    @Test func tlsWithSelfSignedCertificate() async throws {
        let dir = try TemporaryDirectory()
        let (cert, key) = try await dir.selfSignedCertificate(name: "server")
        let live = try LiveServer { $0.tls = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key) }
        let client = try live.client(tls: ClientTLS(rootCertificatesPath: cert))
        #expect(try await client.unary("/test.Echo/Unary", [1, 2, 3], timeout: .seconds(10)) == [1, 2, 3])
        // By IP too (the certificate names 127.0.0.1).
        let byIP = try Client(target: live.target, tls: ClientTLS(rootCertificatesPath: cert))
        #expect(try await byIP.unary("/test.Echo/Unary", [4], timeout: .seconds(10)) == [4])
        // A plaintext client cannot talk to it.
        let plain = try Client(target: live.target)
        let refused = await status { try await _ = plain.unary("/test.Echo/Unary", [1], timeout: .seconds(5)) }
        #expect(refused.code == .unavailable || refused.code == .deadlineExceeded)
        // Nor a client that does not trust the certificate.
        let (other, _) = try await dir.selfSignedCertificate(name: "other")
        let untrusting = try live.client(tls: ClientTLS(rootCertificatesPath: other))
        let untrusted = await status { try await _ = untrusting.unary("/test.Echo/Unary", [1], timeout: .seconds(5)) }
        #expect(untrusted.code == .unavailable || untrusted.code == .deadlineExceeded)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func mutualTLSRequiresTheClientCertificate() async throws {
        let dir = try TemporaryDirectory()
        let (serverCert, serverKey) = try await dir.selfSignedCertificate(name: "server")
        let (clientCert, clientKey) = try await dir.selfSignedCertificate(name: "client")
        let live = try LiveServer {
            $0.tls = TLSConfiguration(
                certificateChainPath: serverCert, privateKeyPath: serverKey, clientCAPath: clientCert,
                requireClientCertificate: true)
        }
        let withCert = try live.client(
            tls: ClientTLS(rootCertificatesPath: serverCert, certificateChainPath: clientCert, privateKeyPath: clientKey))
        #expect(try await withCert.unary("/test.Echo/Unary", [9], timeout: .seconds(10)) == [9])
        let without = try live.client(tls: ClientTLS(rootCertificatesPath: serverCert))
        let refused = await status { try await _ = without.unary("/test.Echo/Unary", [9], timeout: .seconds(5)) }
        #expect(refused.code == .unavailable || refused.code == .deadlineExceeded)
        await live.server.shutdown(drainDeadline: .seconds(1))
    }

    @Test func unreadableCertificateFailsToStart() async throws {
        let server = Server(
            configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                tls: TLSConfiguration(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")),
            router: Router())
        #expect(throws: ServerError.self) { try server.start() }
        #expect(throws: RPCStatus.self) { try Client(target: "127.0.0.1:1", tls: ClientTLS(rootCertificatesPath: "/nonexistent")) }
    }
}
