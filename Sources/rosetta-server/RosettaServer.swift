import Foundation
import HTTPAPI
import Index
import Logging
import Metrics
import Prometheus
import PostgresIndex
import RPC
import Service
import Spaces
import ServiceLifecycle
import Tensor
import Synchronization
import UnixSignals

/// One server process: transport up first (health NOT_SERVING), then the models, then SERVING; on SIGTERM or
/// SIGINT it drains calls in flight for up to `drain`, then stops. The steps follow `ServerState`.
final class RosettaServer: ServiceLifecycle.Service, Sendable {
    private let transport: ServerConfiguration
    private let limits: ServiceLimits
    private let batching: BatchSettings
    private let modelsDirectory: URL
    private let hubModels: HubModels
    private let index: IndexSettings
    private let threads: Int
    private let precision: Precision
    private let speechDecoding: SpeechDecoding
    private let drain: Duration
    private let tokens: BearerTokens?
    private let metrics: (address: String, registry: PrometheusCollectorRegistry)?
    private let http: HTTPSettings?
    private let logger: Logger
    private let state = Mutex(ServerState.starting)

    static let healthServices = ["", EmbeddingsService.serviceName, IndexService.serviceName]

    init(
        transport: ServerConfiguration, limits: ServiceLimits, batching: BatchSettings, modelsDirectory: URL, hubModels: HubModels, index: IndexSettings, threads: Int,
        precision: Precision, speechDecoding: SpeechDecoding, drain: Duration, tokens: BearerTokens?,
        metrics: (address: String, registry: PrometheusCollectorRegistry)?, http: HTTPSettings?, logger: Logger
    ) {
        self.http = http
        self.tokens = tokens
        self.metrics = metrics
        self.transport = transport
        self.limits = limits
        self.batching = batching
        self.modelsDirectory = modelsDirectory
        self.hubModels = hubModels
        self.index = index
        self.threads = threads
        self.precision = precision
        self.speechDecoding = speechDecoding
        self.drain = drain
        self.logger = logger
    }

    func run() async throws {
        let models = ModelSlot()
        let scheduler = BatchScheduler(settings: batching, mayRunInline: { ReceivingThread.isCurrent })
        var router = Router()
        router.mapErrors(logger: logger)
        if let tokens { router.requireBearerToken(tokens) }
        let requestLog = RequestLog(logger: logger)
        let reloads = Task { await reloadTokensOnHangup() }
        defer { reloads.cancel() }
        let embeddings = EmbeddingsService(
            models: models, limits: limits, scheduler: scheduler, computeThreads: threads, logger: logger
        )
        embeddings.register(in: &router)
        let vectorIndex: any VectorIndex
        let snapshots: Task<Void, Never>
        if let database = index.database {
            let opened = try await PostgresIndex.open(database, logger: logger)
            vectorIndex = opened
            snapshots = Task {}
        } else {
            let opened = try openIndex()
            vectorIndex = opened
            snapshots = Task { await takeSnapshots(of: opened) }
        }
        let indexService = IndexService(models: models, index: vectorIndex, limits: limits, scheduler: scheduler, logger: logger)
        indexService.register(in: &router)
        let requestMetrics = RequestMetrics(methods: Set(router.methods + HTTPAPI.methods))
        let onCallFinished: @Sendable (CallContext, RPCStatus, Duration) -> Void = { context, status, duration in
            requestLog.record(context, status, duration)
            requestMetrics.record(context, status, duration)
        }
        router.onCallFinished = onCallFinished

        let server = Server(configuration: transport, router: router)
        let ports = try server.start()
        try advance(.transportStarted)
        for (requested, port) in zip(transport.listenAddresses, ports) {
            let address = requested.prefix(upTo: requested.lastIndex(of: ":") ?? requested.endIndex) + ":\(port)"
            logger.info("listening", metadata: ["address": "\(address)", "tls": "\(transport.tls != nil)"])
            // A plain line on stdout for scripts and tests that wait for the server.
            FileHandle.standardOutput.write(Data("rosetta-server listening on \(address)\n".utf8))
        }
        var authenticate: (@Sendable (RPC.Metadata) throws -> Void)?
        if let tokens { authenticate = { @Sendable metadata in try tokens.authenticate(metadata) } }
        let httpServer = try await startHTTP(HTTPAPI(
            embeddings: embeddings, index: indexService, authenticate: authenticate,
            state: { [self] in self.state.withLock { $0 } }, onRequestFinished: onCallFinished,
            remoteMedia: http?.remoteMedia, logger: logger))
        let metricsEndpoint = try await startMetrics(index: vectorIndex)

        try await withGracefulShutdownHandler {
            do {
                let loadStarted = ContinuousClock.now
                let checkpoints = try await hubModels.fetch()
                let spaces = try SpaceLoader(directory: modelsDirectory, threads: threads, precision: precision, logger: logger,
                                             limits: limits.media, checkpoints: checkpoints, speechDecoding: speechDecoding).load()
                let catalog = ModelCatalog(models: spaces)
                let loadTime = ContinuousClock.now - loadStarted
                Gauge(label: "rosetta_model_load_seconds").record(
                    Double(loadTime.components.seconds) + Double(loadTime.components.attoseconds) / 1e18)
                models.install(catalog)
                try advance(.modelsLoaded)
                for service in Self.healthServices { server.setServing(true, service: service) }
                logger.info("serving", metadata: ["models": "\(catalog.descriptions.map(\.id))"])
            } catch {
                logger.critical("could not load models", metadata: ["error": "\(error)"])
                await httpServer?.shutdown(drainDeadline: .zero)
                await server.shutdown(drainDeadline: .zero)
                throw error
            }
            await server.wait()
            // Requests over HTTP still in flight finish (or meet the drain deadline) before the index closes.
            await httpServer?.shutdown(drainDeadline: drain)
            snapshots.cancel()
            await snapshots.value
            (vectorIndex as? PostgresIndex)?.close()
            // Every call has ended: the last snapshot is written; release the log and the data directory.
            (vectorIndex as? LocalIndex)?.close()
            logger.info("index closed")
            await metricsEndpoint?.stop()
            // The last line, written here rather than by the drain task below: run() returns right after, and
            // the process with it, so a line from another task could be lost.
            logger.info("stopped")
        } onGracefulShutdown: { [self] in
            guard (try? advance(.shutdownRequested)) != nil else { return }
            for service in Self.healthServices { server.setServing(false, service: service) }
            logger.info("draining", metadata: ["deadline": "\(drain)"])
            Task {
                async let grpc: Void = server.shutdown(drainDeadline: drain)
                await httpServer?.shutdown(drainDeadline: drain)
                await grpc
                try? self.advance(.drained)
            }
        }
    }

    /// Opens the index before the transport starts: loads the snapshot and replays the log (a torn last
    /// record is cut off and logged), so that no call ever sees a half-recovered index. A log damaged before
    /// its end stops the server, unless --wal-recovery truncate accepts the loss.
    private func openIndex() throws -> LocalIndex {
        var configuration = LocalIndex.Configuration(dataDirectory: index.dataDirectory)
        configuration.maxCollections = limits.maxCollections
        configuration.searchThreads = threads
        configuration.logRecovery = index.logRecovery
        // Over a file-size limit (ulimit -f) a write must fail with EFBIG, which the index reports to the
        // client as RESOURCE_EXHAUSTED (out of space), rather than the default SIGXFSZ killing the process.
        signal(SIGXFSZ, SIG_IGN)
        let started = ContinuousClock.now
        let opened: LocalIndex
        do {
            opened = try LocalIndex(configuration)
        } catch {
            guard case .damagedLog(_, _, _, let count, _) = error else { throw error }
            logger.critical("index log damaged; not starting", metadata: ["error": "\(error)"])
            throw DamagedLogRefusal(message: "\(error). To start anyway and lose those \(count) records' writes, restart with --wal-recovery truncate (ROSETTA_WAL_RECOVERY=truncate), which first keeps a copy of the log beside it.")
        }
        let recovery = opened.recovery
        if let copy = recovery.keptCopy {
            logger.error("index log: damaged before its end; cut at the damage as --wal-recovery truncate asks, losing the writes of the valid records after it", metadata: [
                "reason": "\(recovery.truncationReason ?? "")", "bytes": "\(recovery.truncatedBytes)",
                "dropped-records": "\(recovery.droppedRecords)", "copy": "\(copy)",
            ])
        } else if let reason = recovery.truncationReason {
            logger.warning("index log: cut a torn last record (never acknowledged)", metadata: [
                "reason": "\(reason)", "bytes": "\(recovery.truncatedBytes)",
            ])
        }
        logger.info("index opened", metadata: [
            "data-dir": "\(index.dataDirectory ?? "(in memory)")", "collections": "\(recovery.collections)",
            "items": "\(recovery.items)", "replayed": "\(recovery.replayedRecords)",
            "took": "\(ContinuousClock.now - started)",
        ])
        return opened
    }

    /// Writes a snapshot every `snapshotInterval`, or sooner when the log has grown past `snapshotLogBytes`;
    /// and a last one when cancelled (the server stopped), so the next start has little to replay.
    private func takeSnapshots(of vectorIndex: LocalIndex) async {
        guard vectorIndex.isDurable else { return }
        var last = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let due = ContinuousClock.now - last >= index.snapshotInterval || vectorIndex.logBytes >= index.snapshotLogBytes
            guard due || Task.isCancelled else { continue }
            last = ContinuousClock.now
            let started = ContinuousClock.now
            do {
                if try await vectorIndex.snapshotInBackground() {
                    logger.info("index snapshot written", metadata: ["took": "\(ContinuousClock.now - started)"])
                }
            } catch {
                logger.error("index snapshot failed; the log keeps every write", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The HTTP API on --http-address (nil without it), with gRPC's TLS files and message size limit.
    private func startHTTP(_ api: HTTPAPI) async throws -> HTTPServer? {
        guard let http else { return nil }
        let tls = transport.tls.map { tls in
            HTTPServer.TLS(certificateChainPath: tls.certificateChainPath, privateKeyPath: tls.privateKeyPath, clientCAPath: tls.clientCAPath)
        }
        let server = try await HTTPServer(address: http.address, tls: tls, maxBodyBytes: limits.maxMessageBytes, api: api)
        let host = http.address.prefix(upTo: http.address.lastIndex(of: ":") ?? http.address.endIndex)
        let scheme = tls == nil ? "http" : "https"
        logger.info("http listening", metadata: ["address": "\(host):\(server.port)", "tls": "\(tls != nil)"])
        FileHandle.standardOutput.write(Data("rosetta-server http on \(scheme)://\(host):\(server.port)\n".utf8))
        return server
    }

    private func startMetrics(index: any VectorIndex) async throws -> MetricsEndpoint? {
        guard let metrics else { return nil }
        let sizes = IndexMetrics(index: index)
        let endpoint = try await MetricsEndpoint(address: metrics.address, registry: metrics.registry) {
            await sizes.refresh()
        }
        let host = metrics.address.prefix(upTo: metrics.address.lastIndex(of: ":") ?? metrics.address.endIndex)
        logger.info("metrics", metadata: ["address": "\(host):\(endpoint.port)", "path": "/metrics"])
        FileHandle.standardOutput.write(Data("rosetta-server metrics on \(host):\(endpoint.port)\n".utf8))
        return endpoint
    }

    /// SIGHUP reads the token file again; a bad file is logged and the tokens in force stay.
    private func reloadTokensOnHangup() async {
        guard let tokens else { return }
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            do {
                try tokens.reload()
                logger.info("token file reloaded", metadata: ["path": "\(tokens.path)", "tokens": "\(tokens.count)"])
            } catch {
                logger.error("token file not reloaded; the previous tokens stay", metadata: ["error": "\(error)"])
            }
        }
    }

    private func advance(_ event: ServerState.Event) throws {
        try state.withLock { state in state = try state.after(event) }
    }
}

/// Why the server did not start: the index's log is damaged before its end (the message says where, and how
/// to start anyway).
struct DamagedLogRefusal: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The HTTP/JSON API's listener (--http-address).
struct HTTPSettings: Sendable {
    var address: String
    /// --remote-media: fetching images named by URL; nil: refused.
    var remoteMedia: RemoteMedia?
}

/// Where and how the index keeps its data (flags --index, --data-dir, --in-memory, --snapshot-*).
struct IndexSettings: Sendable {
    /// nil: in memory only.
    var dataDirectory: String?
    var snapshotInterval: Duration
    var snapshotLogBytes: Int
    /// --wal-recovery: what opening does with a log damaged before its end.
    var logRecovery: LogRecovery
    /// A PostgreSQL database instead of the local index (--index postgres://...); the other settings then do
    /// not apply.
    var database: PostgresIndex.Configuration?
}
