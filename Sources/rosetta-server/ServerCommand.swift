import ArgumentParser
import Foundation
import Logging
import PostgresIndex
import RPC
import Service
import ServiceLifecycle

/// Flags, each with an environment variable of the same name (ROSETTA_ADDRESS for --address, ...).
/// A flag given on the command line wins over the environment.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rosetta-server",
        abstract: "Serve text, image and audio embeddings in one shared space over gRPC.",
        version: RosettaVersion.current
    )

    @Option(name: .long, help: "Listen address host:port; repeat for several. Port 0 picks a free port. [ROSETTA_ADDRESS]")
    var address: [String] = Environment.list("ROSETTA_ADDRESS") ?? ["127.0.0.1:50051"]

    @Option(name: .long, help: "Directory with manifest.json and the model folders. [ROSETTA_MODELS_DIR]")
    var modelsDir: String = Environment.string("ROSETTA_MODELS_DIR") ?? "models"

    @Option(name: .long, help: "Directory for the index's write-ahead log and snapshots. [ROSETTA_DATA_DIR]")
    var dataDir: String = Environment.string("ROSETTA_DATA_DIR") ?? "data"

    @Flag(name: .long, help: "Keep the index in memory only: nothing is written to disk. [ROSETTA_IN_MEMORY=1]")
    var inMemory: Bool = Environment.bool("ROSETTA_IN_MEMORY") ?? false

    @Option(name: .long, help: ArgumentHelp(
        "Where the index lives: 'local' (this process's memory, durable in --data-dir) or a PostgreSQL database with pgvector, postgres://user[:password]@host[:port]/database[?hnsw_m=16&hnsw_ef_construction=64&hnsw_ef_search=100&pool_size=10&timeout=5&sslmode=prefer], which several servers can share. [ROSETTA_INDEX]",
        valueName: "local|url"))
    var index: String = Environment.string("ROSETTA_INDEX") ?? "local"

    @Option(name: .long, help: "Seconds between index snapshots (when anything changed). [ROSETTA_SNAPSHOT_INTERVAL]")
    var snapshotInterval: Double = Environment.double("ROSETTA_SNAPSHOT_INTERVAL") ?? 300

    @Option(name: .long, help: "Snapshot sooner once the write-ahead log holds this many bytes. [ROSETTA_SNAPSHOT_LOG_BYTES]")
    var snapshotLogBytes: Int = Environment.int("ROSETTA_SNAPSHOT_LOG_BYTES") ?? 256 << 20

    @Option(name: .long, help: "Most collections the index holds. [ROSETTA_MAX_COLLECTIONS]")
    var maxCollections: Int = Environment.int("ROSETTA_MAX_COLLECTIONS") ?? ServiceLimits().maxCollections

    @Option(name: .long, help: "PEM certificate chain; enables TLS together with --tls-key. [ROSETTA_TLS_CERT]")
    var tlsCert: String? = Environment.string("ROSETTA_TLS_CERT")

    @Option(name: .long, help: "PEM private key of the certificate. [ROSETTA_TLS_KEY]")
    var tlsKey: String? = Environment.string("ROSETTA_TLS_KEY")

    @Option(name: .long, help: "PEM CA bundle to verify client certificates (mutual TLS). [ROSETTA_TLS_CLIENT_CA]")
    var tlsClientCa: String? = Environment.string("ROSETTA_TLS_CLIENT_CA")

    @Option(name: .long, help: "Largest request or response message in bytes. [ROSETTA_MAX_MESSAGE_BYTES]")
    var maxMessageBytes: Int = Environment.int("ROSETTA_MAX_MESSAGE_BYTES") ?? ServiceLimits().maxMessageBytes

    @Option(name: .long, help: "Most inputs in one Embed request. [ROSETTA_MAX_BATCH_ITEMS]")
    var maxBatchItems: Int = Environment.int("ROSETTA_MAX_BATCH_ITEMS") ?? ServiceLimits().maxBatchItems

    @Option(name: .long, help: "Most characters in one text input. [ROSETTA_MAX_TEXT_CHARS]")
    var maxTextChars: Int = Environment.int("ROSETTA_MAX_TEXT_CHARS") ?? ServiceLimits().maxTextCharacters

    @Option(name: .long, help: "Most pixels in one image, checked from its header before decoding. [ROSETTA_MAX_IMAGE_PIXELS]")
    var maxImagePixels: Int = Environment.int("ROSETTA_MAX_IMAGE_PIXELS") ?? ServiceLimits().maxImagePixels

    @Option(name: .long, help: "Longest audio input in seconds. [ROSETTA_MAX_AUDIO_SECONDS]")
    var maxAudioSeconds: Double = Environment.double("ROSETTA_MAX_AUDIO_SECONDS") ?? ServiceLimits().maxAudioSeconds

    @Option(name: .long, help: "Most concurrent streams per connection. [ROSETTA_MAX_CONCURRENT_STREAMS]")
    var maxConcurrentStreams: Int = Environment.int("ROSETTA_MAX_CONCURRENT_STREAMS") ?? ServiceLimits().maxConcurrentStreams

    @Option(name: .long, help: "Inference threads (OpenBLAS). 0: one per core. [ROSETTA_THREADS]")
    var threads: Int = Environment.int("ROSETTA_THREADS") ?? 0

    @Option(name: .long, help: "Seconds to let calls in flight finish on shutdown. [ROSETTA_DRAIN_SECONDS]")
    var drainSeconds: Double = Environment.double("ROSETTA_DRAIN_SECONDS") ?? 10

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical. [ROSETTA_LOG_LEVEL]")
    var logLevel: String = Environment.string("ROSETTA_LOG_LEVEL") ?? "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both or neither")
        }
        if tlsClientCa != nil && tlsCert == nil {
            throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key")
        }
        for (name, value) in [("--max-message-bytes", maxMessageBytes), ("--max-batch-items", maxBatchItems),
                              ("--max-text-chars", maxTextChars), ("--max-concurrent-streams", maxConcurrentStreams),
                              ("--snapshot-log-bytes", snapshotLogBytes), ("--max-collections", maxCollections)]
        where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        guard snapshotInterval > 0 else { throw ValidationError("--snapshot-interval must be positive, got \(snapshotInterval)") }
        guard !dataDir.isEmpty else { throw ValidationError("--data-dir is empty; give a directory or --in-memory") }
        guard maxAudioSeconds > 0 else { throw ValidationError("--max-audio-seconds must be positive, got \(maxAudioSeconds)") }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 or more, got \(threads)") }
        _ = try databaseConfiguration()
    }

    /// The PostgreSQL index's settings, or nil for the local index.
    private func databaseConfiguration() throws -> PostgresIndex.Configuration? {
        guard index != "local" else { return nil }
        do {
            var configuration = try PostgresIndex.Configuration(url: index)
            configuration.maxCollections = maxCollections
            return configuration
        } catch {
            throw ValidationError("--index: \(error)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rosetta-server")

        var limits = ServiceLimits()
        limits.maxMessageBytes = maxMessageBytes
        limits.maxBatchItems = maxBatchItems
        limits.maxTextCharacters = maxTextChars
        limits.maxImagePixels = maxImagePixels
        limits.maxAudioSeconds = maxAudioSeconds
        limits.maxConcurrentStreams = maxConcurrentStreams
        limits.maxCollections = maxCollections

        let server = RosettaServer(
            transport: transportConfiguration(limits: limits),
            limits: limits,
            modelsDirectory: URL(fileURLWithPath: modelsDir),
            index: IndexSettings(
                dataDirectory: inMemory ? nil : dataDir, snapshotInterval: .milliseconds(Int(snapshotInterval * 1000)),
                snapshotLogBytes: snapshotLogBytes, database: try databaseConfiguration()),
            threads: threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads,
            drain: .milliseconds(Int(drainSeconds * 1000)),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    private func transportConfiguration(limits: ServiceLimits) -> ServerConfiguration {
        var configuration = ServerConfiguration(listenAddresses: address)
        configuration.maxReceiveMessageBytes = limits.maxMessageBytes
        configuration.maxSendMessageBytes = limits.maxMessageBytes
        configuration.maxConcurrentStreams = limits.maxConcurrentStreams
        if let tlsCert, let tlsKey {
            configuration.tls = TLSConfiguration(
                certificateChainPath: tlsCert, privateKeyPath: tlsKey,
                clientCAPath: tlsClientCa, requireClientCertificate: tlsClientCa != nil
            )
        }
        return configuration
    }
}

/// Reads flag defaults from the environment.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
    static func list(_ name: String) -> [String]? {
        string(name)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }
    static func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    static func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }
    static func bool(_ name: String) -> Bool? { string(name).map { ["1", "true", "yes"].contains($0.lowercased()) } }
}
