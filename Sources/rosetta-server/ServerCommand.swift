import ArgumentParser
import Foundation
import HTTPAPI
import Index
import Logging
import Metrics
import Prometheus
import PostgresIndex
import RPC
import RosettaAPI
import Service
import ServiceLifecycle
import Spaces
import Tensor

/// Flags, each with an environment variable of the same name (ROSETTA_ADDRESS for --address, ...) and a key of
/// the config file (--config; "address"). Precedence: command line, environment, config file, built-in default.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rosetta-server",
        abstract: "Serve text, image and audio embeddings in one shared space over gRPC.",
        version: RosettaVersion.current
    )

    @Option(name: .long, help: "JSON config file: an object with the flags' names as keys, e.g. {\"max-batch-items\": 64}. [ROSETTA_CONFIG]")
    var config: String? = settings.configPath

    @Option(name: .long, help: "Listen address host:port; repeat for several. Port 0 picks a free port. [ROSETTA_ADDRESS]")
    var address: [String] = settings.list("address", default: ["127.0.0.1:50051"])

    @Option(name: .long, help: "Also serve the HTTP/JSON API (OpenAI-compatible POST /v1/embeddings, GET /v1/models, the Index under /v1/collections, /openapi.json, /healthz, /readyz) on this host:port, with the same tokens, limits and TLS as gRPC; off when not given. [ROSETTA_HTTP_ADDRESS]")
    var httpAddress: String? = settings.string("http-address")

    @Flag(name: .long, help: "HTTP: fetch images that /v1/embeddings names by http(s) URL (off: only data: URIs). Only public addresses, redirects checked, each URL within --remote-media-timeout, the images of one request together within --max-message-bytes. [ROSETTA_REMOTE_MEDIA=1]")
    var remoteMedia: Bool = settings.bool("remote-media", default: false)

    @Flag(name: .long, help: "With --remote-media: also fetch from loopback, private and link-local addresses (a trusted network only). [ROSETTA_REMOTE_MEDIA_ALLOW_PRIVATE=1]")
    var remoteMediaAllowPrivate: Bool = settings.bool("remote-media-allow-private", default: false)

    @Option(name: .long, help: "With --remote-media: seconds per URL, body included. [ROSETTA_REMOTE_MEDIA_TIMEOUT]")
    var remoteMediaTimeout: Double = settings.double("remote-media-timeout", default: 10)

    @Option(name: .long, help: "Directory with manifest.json and the model folders. [ROSETTA_MODELS_DIR]")
    var modelsDir: String = settings.string("models-dir", default: "models")

    @Option(name: .long, help: ArgumentHelp(
        "A Hugging Face Hub model to serve beside the manifest's, as org/name[@revision] (e.g. openai/clip-vit-base-patch32); repeat for several. Downloaded at start into the Hugging Face cache unless already there. [ROSETTA_MODEL]",
        discussion: "Reads HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HOME and HF_HUB_CACHE as huggingface_hub does."))
    var model: [String] = settings.list("model", default: [])

    @Option(name: .long, help: "Directory for the index's write-ahead log and snapshots. [ROSETTA_DATA_DIR]")
    var dataDir: String = settings.string("data-dir", default: "data")

    @Flag(name: .long, help: "Keep the index in memory only: nothing is written to disk. [ROSETTA_IN_MEMORY=1]")
    var inMemory: Bool = settings.bool("in-memory", default: false)

    @Option(name: .long, help: ArgumentHelp(
        "Where the index lives: 'local' (this process's memory, durable in --data-dir) or a PostgreSQL database with pgvector, postgres://user[:password]@host[:port]/database[?hnsw_m=16&hnsw_ef_construction=64&hnsw_ef_search=100&pool_size=10&timeout=5&sslmode=prefer], which several servers can share. [ROSETTA_INDEX]",
        valueName: "local|url"))
    var index: String = settings.string("index", default: "local")

    @Option(name: .long, help: "Seconds between index snapshots (when anything changed). [ROSETTA_SNAPSHOT_INTERVAL]")
    var snapshotInterval: Double = settings.double("snapshot-interval", default: 300)

    @Option(name: .long, help: "Snapshot sooner once the write-ahead log holds this many bytes. [ROSETTA_SNAPSHOT_LOG_BYTES]")
    var snapshotLogBytes: Int = settings.int("snapshot-log-bytes", default: 256 << 20)

    @Option(name: .long, help: ArgumentHelp(
        "When the index's write-ahead log is damaged before its end (valid records after the damage, so not a torn last write, which is always cut off): refuse (do not start; every file stays as it is) or truncate (keep a copy of the log beside it, index.wal.corrupt-<UTC time>, cut the log at the damage and start: the writes in the records after it are lost). [ROSETTA_WAL_RECOVERY]",
        valueName: "refuse|truncate"))
    var walRecovery: String = settings.string("wal-recovery", default: LogRecovery.refuse.rawValue)

    @Option(name: .long, help: "Most collections the index holds. [ROSETTA_MAX_COLLECTIONS]")
    var maxCollections: Int = settings.int("max-collections", default: ServiceLimits().maxCollections)

    @Option(name: .long, help: "PEM certificate chain; enables TLS together with --tls-key (gRPC, and HTTP with --http-address). [ROSETTA_TLS_CERT]")
    var tlsCert: String? = settings.string("tls-cert")

    @Option(name: .long, help: "PEM private key of the certificate. [ROSETTA_TLS_KEY]")
    var tlsKey: String? = settings.string("tls-key")

    @Option(name: .long, help: "PEM CA bundle to verify client certificates (mutual TLS). [ROSETTA_TLS_CLIENT_CA]")
    var tlsClientCa: String? = settings.string("tls-client-ca")

    @Option(name: .long, help: "File of bearer tokens, one per line; every call must send 'authorization: Bearer <token>'. Health and reflection stay open. SIGHUP reloads it. [ROSETTA_TOKEN_FILE]")
    var tokenFile: String? = settings.string("token-file")

    @Option(name: .long, help: "Largest request or response message in bytes. [ROSETTA_MAX_MESSAGE_BYTES]")
    var maxMessageBytes: Int = settings.int("max-message-bytes", default: ServiceLimits().maxMessageBytes)

    @Option(name: .long, help: "Most inputs in one Embed request. [ROSETTA_MAX_BATCH_ITEMS]")
    var maxBatchItems: Int = settings.int("max-batch-items", default: ServiceLimits().maxBatchItems)

    @Option(name: .long, help: "Most characters in one text input. [ROSETTA_MAX_TEXT_CHARS]")
    var maxTextChars: Int = settings.int("max-text-chars", default: ServiceLimits().maxTextCharacters)

    @Option(name: .long, help: "Most pixels in one image, checked from its header before decoding. [ROSETTA_MAX_IMAGE_PIXELS]")
    var maxImagePixels: Int = settings.int("max-image-pixels", default: ServiceLimits().maxImagePixels)

    @Option(name: .long, help: "Longest audio input in seconds. [ROSETTA_MAX_AUDIO_SECONDS]")
    var maxAudioSeconds: Double = settings.double("max-audio-seconds", default: ServiceLimits().maxAudioSeconds)

    @Option(name: .long, help: "Highest audio sample rate in Hz, read from the header. [ROSETTA_MAX_AUDIO_SAMPLE_RATE]")
    var maxAudioSampleRate: Int = settings.int("max-audio-sample-rate", default: ServiceLimits().maxAudioSampleRate)

    @Option(name: .long, help: "Most hits per search (top_k) and ids per Get. [ROSETTA_MAX_TOP_K]")
    var maxTopK: Int = settings.int("max-top-k", default: ServiceLimits().maxTopK)

    @Option(name: .long, help: "Most metadata bytes per item (keys + values, 8 per number). [ROSETTA_MAX_METADATA_BYTES]")
    var maxMetadataBytes: Int = settings.int("max-metadata-bytes", default: ServiceLimits().maxMetadataBytes)

    @Option(name: .long, help: "Most metadata keys per item. [ROSETTA_MAX_METADATA_KEYS]")
    var maxMetadataKeys: Int = settings.int("max-metadata-keys", default: ServiceLimits().maxMetadataKeys)

    @Option(name: .long, help: "Longest item id in UTF-8 bytes. [ROSETTA_MAX_ID_BYTES]")
    var maxIdBytes: Int = settings.int("max-id-bytes", default: ServiceLimits().maxIDBytes)

    @Option(name: .long, help: "Most concurrent streams per connection. [ROSETTA_MAX_CONCURRENT_STREAMS]")
    var maxConcurrentStreams: Int = settings.int("max-concurrent-streams", default: ServiceLimits().maxConcurrentStreams)

    @Option(name: .long, help: "Microseconds a forward pass may wait for more requests to merge with; it waits only while the previous forward merged several requests (concurrent load), never for a lone sequential client. 0: never wait. [ROSETTA_BATCH_DELAY_US]")
    var batchDelayUs: Int = settings.int("batch-delay-us", default: Int(BatchSettings().maxDelay / .microseconds(1)))

    @Option(name: .long, help: "Most inputs in one forward pass, over the requests it merges. [ROSETTA_BATCH_MAX_ITEMS]")
    var batchMaxItems: Int = settings.int("batch-max-items", default: BatchSettings().maxItems)

    @Option(name: .long, help: "Most estimated tokens in one forward pass (a text: ~1 per 3 UTF-8 bytes, at most the model's max tokens; an image or audio input: the model's max tokens). [ROSETTA_BATCH_MAX_TOKENS]")
    var batchMaxTokens: Int = settings.int("batch-max-tokens", default: BatchSettings().maxTokens)

    @Option(name: .long, help: "Most requests merged into one forward pass; 0: no limit but --batch-max-items; 1: no merging (one request per forward, for comparisons). [ROSETTA_BATCH_MAX_REQUESTS]")
    var batchMaxRequests: Int = settings.int("batch-max-requests", default: BatchSettings().maxRequests)

    @Option(name: .long, help: "Most inputs waiting for a forward pass; a request that would pass it gets RESOURCE_EXHAUSTED at once. At least --max-batch-items. [ROSETTA_QUEUE_MAX_ITEMS]")
    var queueMaxItems: Int = settings.int("queue-max-items", default: BatchSettings().maxQueuedItems)

    @Option(name: .long, help: "Inference threads (OpenBLAS). 0: one per core. [ROSETTA_THREADS]")
    var threads: Int = settings.int("threads", default: 0)

    @Option(name: .long, help: "float32, or bfloat16: the models' dense layers in bfloat16 on CPUs with AVX512-BF16 (1.6-1.8x the text throughput here; cosine to float32 >= 0.9997, bench/results.md), float32 elsewhere. Whisper keeps its float16 weights. [ROSETTA_PRECISION]")
    var precision: String = settings.string("precision", default: Precision.float32.rawValue)

    @Option(name: .long, help: "Beams of the speech recogniser's decoding (faster-whisper's transcribe(): temperature fallback, no-speech rule, conditioning on previous text); 1: greedy, about twice as fast. [ROSETTA_SPEECH_BEAM_SIZE]")
    var speechBeamSize: Int = settings.int("speech-beam-size", default: SpeechDecoding().beamSize)

    @Option(name: .long, help: "Speech transcripts of one window (up to 30 s) pooled into an audio vector: the best N beam hypotheses, embedded and weighted by sequence probability; 1: the best transcript only. [ROSETTA_SPEECH_N_BEST]")
    var speechNBest: Int = settings.int("speech-n-best", default: SpeechDecoding().nBest)

    @Option(name: .long, help: "Seconds to let calls in flight finish on shutdown. [ROSETTA_DRAIN_SECONDS]")
    var drainSeconds: Double = settings.double("drain-seconds", default: 10)

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical. [ROSETTA_LOG_LEVEL]")
    var logLevel: String = settings.string("log-level", default: "info")

    @Option(name: .long, help: "Serve Prometheus metrics (GET /metrics) on this host:port; off when not given. [ROSETTA_METRICS_ADDRESS]")
    var metricsAddress: String? = settings.string("metrics-address")

    @Option(name: .long, help: "text (one line per event) or json (one JSON object per line). [ROSETTA_LOG_FORMAT]")
    var logFormat: String = settings.string("log-format", default: "text")

    func validate() throws {
        let problems = settings.problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        guard ["text", "json"].contains(logFormat) else {
            throw ValidationError("--log-format '\(logFormat)' is not one of text, json")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both or neither")
        }
        if let metricsAddress { _ = try MetricsEndpoint.split(metricsAddress) }
        if let httpAddress {
            do { _ = try HTTPServer.split(httpAddress) } catch { throw ValidationError("--http-address: \(error)") }
        }
        if remoteMedia && httpAddress == nil {
            throw ValidationError("--remote-media applies to the HTTP API: give --http-address too")
        }
        if remoteMediaAllowPrivate && !remoteMedia {
            throw ValidationError("--remote-media-allow-private needs --remote-media")
        }
        guard remoteMediaTimeout > 0 && remoteMediaTimeout <= 600 else {
            throw ValidationError("--remote-media-timeout must be between 0 and 600 seconds, got \(remoteMediaTimeout)")
        }
        if tlsClientCa != nil && tlsCert == nil {
            throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key")
        }
        for (name, value) in [("--max-message-bytes", maxMessageBytes), ("--max-batch-items", maxBatchItems),
                              ("--max-text-chars", maxTextChars), ("--max-concurrent-streams", maxConcurrentStreams),
                              ("--snapshot-log-bytes", snapshotLogBytes), ("--max-collections", maxCollections),
                              ("--max-image-pixels", maxImagePixels), ("--max-top-k", maxTopK),
                              ("--max-metadata-bytes", maxMetadataBytes), ("--max-metadata-keys", maxMetadataKeys),
                              ("--max-id-bytes", maxIdBytes)]
        where value <= 0 {
            throw ValidationError("\(name) must be positive, got \(value)")
        }
        guard snapshotInterval > 0 else { throw ValidationError("--snapshot-interval must be positive, got \(snapshotInterval)") }
        guard !dataDir.isEmpty else { throw ValidationError("--data-dir is empty; give a directory or --in-memory") }
        guard LogRecovery(rawValue: walRecovery) != nil else {
            throw ValidationError("--wal-recovery '\(walRecovery)' is not one of \(LogRecovery.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard maxAudioSampleRate >= 4_000 else {
            throw ValidationError("--max-audio-sample-rate must be at least 4000 Hz, got \(maxAudioSampleRate)")
        }
        guard maxAudioSeconds > 0 else { throw ValidationError("--max-audio-seconds must be positive, got \(maxAudioSeconds)") }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 or more, got \(threads)") }
        guard (1...16).contains(speechBeamSize) else {
            throw ValidationError("--speech-beam-size must be between 1 (greedy) and 16, got \(speechBeamSize)")
        }
        guard (1...speechBeamSize).contains(speechNBest) else {
            throw ValidationError("--speech-n-best must be between 1 and --speech-beam-size (\(speechBeamSize)), got \(speechNBest)")
        }
        guard Precision(rawValue: precision) != nil else {
            throw ValidationError("--precision '\(precision)' is not one of \(Precision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let problem = batching.problem(maxBatchItems: maxBatchItems) { throw ValidationError(problem) }
        _ = try databaseConfiguration()
        do { _ = try HubModels(model) } catch { throw ValidationError("--model: \(error)") }
    }

    private var batching: BatchSettings {
        var batching = BatchSettings()
        batching.maxDelay = .microseconds(batchDelayUs)
        batching.maxItems = batchMaxItems
        batching.maxTokens = batchMaxTokens
        batching.maxRequests = batchMaxRequests
        batching.maxQueuedItems = queueMaxItems
        return batching
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
        // Buffers of 1 MiB and more (a batch's activations) come from their own mapping and go back to the
        // system when freed. glibc's default raises this threshold as large blocks are freed, after which they
        // stay in the heaps of whichever threads ran forwards: ~90 MiB of RSS after a batch-32 warm-up, for
        // nothing. Page faults of fresh mappings were not measurable (bench/rpc batch 1 and 32).
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        // Small blocks come from two heaps, not one per thread that ever allocated (glibc's default allows 8 per
        // core, each keeping its own free memory): 2-4 MiB less RSS after warm-up (bench/startup).
        _ = mallopt(M_ARENA_MAX, 2)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rosetta-server")

        let tokens: BearerTokens?
        do {
            tokens = try tokenFile.map { path throws(AuthError) in try BearerTokens(path: path) }
        } catch {
            throw ValidationError("--token-file: \(error)")
        }
        if let tokens { logger.info("bearer-token auth on", metadata: ["tokens": "\(tokens.count)"]) }

        var limits = ServiceLimits()
        limits.maxMessageBytes = maxMessageBytes
        limits.maxBatchItems = maxBatchItems
        limits.maxTextCharacters = maxTextChars
        limits.maxImagePixels = maxImagePixels
        limits.maxAudioSeconds = maxAudioSeconds
        limits.maxConcurrentStreams = maxConcurrentStreams
        limits.maxAudioSampleRate = maxAudioSampleRate
        limits.maxTopK = maxTopK
        limits.maxMetadataBytes = maxMetadataBytes
        limits.maxMetadataKeys = maxMetadataKeys
        limits.maxIDBytes = maxIdBytes
        limits.maxCollections = maxCollections

        let metrics = metricsAddress.map { address in (address: address, registry: Self.bootstrapPrometheus()) }
        let server = RosettaServer(
            transport: transportConfiguration(limits: limits),
            limits: limits,
            batching: batching,
            modelsDirectory: URL(fileURLWithPath: modelsDir),
            hubModels: try HubModels(model),
            index: IndexSettings(
                dataDirectory: inMemory ? nil : dataDir, snapshotInterval: .milliseconds(Int(snapshotInterval * 1000)),
                snapshotLogBytes: snapshotLogBytes, logRecovery: LogRecovery(rawValue: walRecovery) ?? .refuse,
                database: try databaseConfiguration()),
            threads: threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads,
            precision: Precision(rawValue: precision) ?? .float32,
            speechDecoding: SpeechDecoding(beamSize: speechBeamSize, nBest: speechNBest),
            drain: .milliseconds(Int(drainSeconds * 1000)),
            tokens: tokens,
            metrics: metrics,
            http: httpAddress.map { address in
                HTTPSettings(address: address, remoteMedia: remoteMedia ? RemoteMedia(
                    allowPrivateNetworks: remoteMediaAllowPrivate, timeout: .milliseconds(Int(remoteMediaTimeout * 1000)),
                    maximumBytes: limits.maxMessageBytes) : nil)
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    /// swift-metrics into a Prometheus registry, with buckets for the value histograms.
    private static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let sizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        for label in ["rosetta_batch_items", "rosetta_forward_items", "rosetta_forward_requests"] {
            factory.valueHistogramBuckets[label] = sizes
        }
        // Queue and compute times per request run from microseconds (an idle server) to seconds (overload).
        let times: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                 .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                 .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                 .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]
        for label in ["rosetta_inference_queue_seconds", "rosetta_inference_compute_seconds"] {
            factory.durationHistogramBuckets[label] = times
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }

    private func transportConfiguration(limits: ServiceLimits) -> ServerConfiguration {
        var configuration = ServerConfiguration(listenAddresses: address)
        configuration.fileDescriptorSet = ProtoDescriptors.fileDescriptorSet
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

/// Option defaults: environment, then config file, then built-in (flags win over all; see `SettingSources`).
let settings = SettingSources(environment: ProcessInfo.processInfo.environment, arguments: CommandLine.arguments)

/// glibc's mallopt and its parameters (malloc.h, which Swift's Glibc module does not export).
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let M_MMAP_THRESHOLD: Int32 = -3
private let M_ARENA_MAX: Int32 = -8
