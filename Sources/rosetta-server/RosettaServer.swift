import Foundation
import Logging
import RPC
import Service
import ServiceLifecycle
import Synchronization

/// One server process: transport up first (health NOT_SERVING), then the models, then SERVING; on SIGTERM or
/// SIGINT it drains calls in flight for up to `drain`, then stops. The steps follow `ServerState`.
final class RosettaServer: ServiceLifecycle.Service, Sendable {
    private let transport: ServerConfiguration
    private let limits: ServiceLimits
    private let modelsDirectory: URL
    private let threads: Int
    private let drain: Duration
    private let logger: Logger
    private let state = Mutex(ServerState.starting)

    static let healthServices = ["", EmbeddingsService.serviceName, IndexService.serviceName]

    init(transport: ServerConfiguration, limits: ServiceLimits, modelsDirectory: URL, threads: Int, drain: Duration, logger: Logger) {
        self.transport = transport
        self.limits = limits
        self.modelsDirectory = modelsDirectory
        self.threads = threads
        self.drain = drain
        self.logger = logger
    }

    func run() async throws {
        let models = ModelSlot()
        let inference = InferenceQueue()
        var router = Router()
        EmbeddingsService(
            models: models, limits: limits, inference: inference, computeThreads: threads, logger: logger
        ).register(in: &router)
        IndexService().register(in: &router)

        let server = Server(configuration: transport, router: router)
        let ports = try server.start()
        try advance(.transportStarted)
        for (requested, port) in zip(transport.listenAddresses, ports) {
            let address = requested.prefix(upTo: requested.lastIndex(of: ":") ?? requested.endIndex) + ":\(port)"
            logger.info("listening", metadata: ["address": "\(address)", "tls": "\(transport.tls != nil)"])
            // A plain line on stdout for scripts and tests that wait for the server.
            FileHandle.standardOutput.write(Data("rosetta-server listening on \(address)\n".utf8))
        }

        try await withGracefulShutdownHandler {
            do {
                let catalog = try await ModelLoader(directory: modelsDirectory, threads: threads, logger: logger, limits: limits).load()
                models.install(catalog)
                try advance(.modelsLoaded)
                for service in Self.healthServices { server.setServing(true, service: service) }
                logger.info("serving", metadata: ["models": "\(catalog.descriptions.map(\.id))"])
            } catch {
                logger.critical("could not load models", metadata: ["error": "\(error)"])
                await server.shutdown(drainDeadline: .zero)
                throw error
            }
            await server.wait()
        } onGracefulShutdown: { [self] in
            guard (try? advance(.shutdownRequested)) != nil else { return }
            for service in Self.healthServices { server.setServing(false, service: service) }
            logger.info("draining", metadata: ["deadline": "\(drain)"])
            Task {
                await server.shutdown(drainDeadline: drain)
                try? self.advance(.drained)
                self.logger.info("stopped")
            }
        }
    }

    private func advance(_ event: ServerState.Event) throws {
        try state.withLock { state in state = try state.after(event) }
    }
}
