import Foundation
import Logging
import RPC
import RosettaAPI
import SwiftProtobuf

/// rosetta.v1.Embeddings: Embed, EmbedStream and Info.
///
/// Validation happens here, before any model work; each input gets its own status so that one bad input
/// fails alone, while a request that is wrong as a whole (unknown model, too many inputs) fails the call.
public struct EmbeddingsService: Sendable {
    public static let serviceName = "rosetta.v1.Embeddings"

    private let models: ModelSlot
    private let limits: ServiceLimits
    private let scheduler: BatchScheduler
    private let computeThreads: Int
    private let logger: Logger

    public init(models: ModelSlot, limits: ServiceLimits, scheduler: BatchScheduler, computeThreads: Int, logger: Logger) {
        self.models = models
        self.limits = limits
        self.scheduler = scheduler
        self.computeThreads = computeThreads
        self.logger = logger
    }

    public func register(in router: inout Router) {
        router.unary("/\(Self.serviceName)/Embed") { bytes, _ in
            let request: Rosetta_V1_EmbedRequest = try decode(bytes)
            return try await encode(embed(request))
        }
        router.bidiStream("/\(Self.serviceName)/EmbedStream") { requests, responses, _ in
            for try await bytes in requests {
                let request: Rosetta_V1_EmbedRequest = try decode(bytes)
                try await responses.write(encode(embed(request)))
            }
        }
        router.unary("/\(Self.serviceName)/Info") { bytes, _ in
            let _: Rosetta_V1_InfoRequest = try decode(bytes)
            return try encode(info())
        }
    }

    // MARK: Info

    public func info() -> Rosetta_V1_InfoResponse {
        var response = Rosetta_V1_InfoResponse()
        response.version = RosettaVersion.current
        let descriptions = models.current.descriptions
        response.models = descriptions.map(Rosetta_V1_ModelInfo.init)
        response.modalities = Array(Set(descriptions.flatMap(\.modalities))).sorted { "\($0)" < "\($1)" }
            .map(Rosetta_V1_Modality.init)
        response.limits = Rosetta_V1_Limits(limits)
        response.computeThreads = UInt32(computeThreads)
        return response
    }

    // MARK: Embed

    public func embed(_ request: Rosetta_V1_EmbedRequest) async throws -> Rosetta_V1_EmbedResponse {
        ServiceMetrics.embedBatchItems.record(request.inputs.count)
        let plan = try EmbedPlan(request, models: models.loaded(), limits: limits)
        var response = Rosetta_V1_EmbedResponse()
        response.model = plan.model.description.id
        response.space = plan.model.description.space
        response.requestID = request.requestID
        response.results = plan.rejected

        if !plan.items.isEmpty {
            let run = try await scheduler.embed(plan.items.map(\.input), model: plan.model, options: plan.options)
            for (item, outcome) in zip(plan.items, run.outcomes) {
                response.results.append(plan.result(for: item, outcome: outcome))
            }
            response.usage.queueTimeNs = run.waited.nanoseconds
            response.usage.computeTimeNs = run.ran.nanoseconds
        }
        response.results.sort { $0.index < $1.index }
        response.usage.items = UInt64(request.inputs.count)
        response.usage.tokens = response.results.reduce(0) { $0 + UInt64($1.tokens) }
        return response
    }
}

/// The server's version, reported by Info.
public enum RosettaVersion {
    public static let current = "0.1.0"
}

func decode<M: SwiftProtobuf.Message>(_ bytes: [UInt8]) throws -> M {
    do {
        return try M(serializedBytes: bytes)
    } catch {
        throw ServiceError.malformedRequest(message: M.protoMessageName, reason: decodingFailure(error))
    }
}

/// Why the bytes are not the message, in words a client can act on (SwiftProtobuf's errors are enum cases).
func decodingFailure(_ error: any Error) -> String {
    switch error {
    case BinaryDecodingError.truncated:
        return "the bytes end inside a field (a truncated message); send the whole serialized message"
    case BinaryDecodingError.malformedProtobuf:
        return "the bytes are not protobuf wire format (an invalid field tag, wire type or length); send a message serialized by a protobuf library"
    case BinaryDecodingError.invalidUTF8:
        return "a string field holds bytes that are not valid UTF-8; send text as UTF-8 (images and audio go in their bytes fields)"
    case BinaryDecodingError.trailingGarbage:
        return "bytes follow the end of the message; send exactly one serialized message"
    case BinaryDecodingError.missingRequiredFields:
        return "required fields are missing; set every required field"
    case BinaryDecodingError.messageDepthLimit:
        return "messages are nested more than \(BinaryDecodingOptions().messageDepthLimit) deep; send a flatter message"
    case BinaryDecodingError.internalExtensionError:
        return "an extension field could not be decoded; send the message without extensions"
    case let error as SwiftProtobufError where error.code == .binaryDecodingError:
        return "a bytes or string field is over protobuf's limit of 2 GB; send smaller inputs"
    default:
        return "the protobuf decoder failed: \(error)"
    }
}

func encode(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
    try message.serializedBytes()
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
