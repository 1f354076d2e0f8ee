import Foundation
import FuzzSupport
import Index
import Logging
import RPC
import RosettaAPI
import Service
import Spaces

/// Request decoding and validation, as the server runs them, with a stand-in model (no inference): the
/// first byte picks the method, the rest is the request message's protobuf bytes. The call goes through the
/// router (protobuf decode, the handler's checks, EmbedPlan, filters, limits, the index over an in-memory
/// collection, the status mapping of ErrorMapping.swift). Every input must finish with a status a client
/// can act on: INTERNAL or UNKNOWN here means an unmapped error or a server fault.
let methods = [
    "/rosetta.v1.Embeddings/Embed", "/rosetta.v1.Index/Upsert", "/rosetta.v1.Index/Search",
    "/rosetta.v1.Index/Get", "/rosetta.v1.Index/Delete", "/rosetta.v1.Index/CreateCollection",
]

/// A deterministic 8-d vector per input, for every modality (no decoding, no model).
struct StandInModel: EmbeddingSpace {
    let description = SpaceDescription(
        id: "stand-in", architecture: "stand-in", modalities: [.text, .image, .audio], dimensions: 8, maxTokens: 16,
        space: "stand-in-space", defaultPooling: .mean, promptNames: ["query"], isDefault: true)

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        inputs.map { input in
            var values = [Float](repeating: 0.125, count: description.dimensions)
            switch input {
            case .text(let text): values[text.utf8.count % values.count] += 1
            case .image(let media), .audio(let media): values[media.data.count % values.count] += 1
            }
            return .success(EmbeddedVector(values: values, tokens: 3))
        }
    }
}

/// A router over fresh services and an in-memory index holding collection "c" (the stand-in's space) and
/// "raw" (4-d raw vectors), each with a few items, so searches, gets and deletes find something.
func makeRouter() -> Router {
    var limits = ServiceLimits()
    limits.maxBatchItems = 16
    limits.maxTopK = 50
    let slot = ModelSlot(ModelCatalog(models: [StandInModel()]))
    let index: LocalIndex
    do { index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil)) } catch { fatalError("fuzz harness: \(error)") }
    let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
    let scheduler = BatchScheduler()
    var router = Router()
    EmbeddingsService(models: slot, limits: limits, scheduler: scheduler, computeThreads: 1, logger: logger).register(in: &router)
    IndexService(models: slot, index: index, limits: limits, scheduler: scheduler, logger: logger).register(in: &router)
    router.mapErrors(logger: logger)
    for request in setupRequests() {
        let status = call(router, request.method, request.bytes)
        precondition(status.code == .ok, "fuzz harness: setup call \(request.method) failed: \(status)")
    }
    return router
}

func call(_ router: Router, _ method: String, _ bytes: [UInt8]) -> RPCStatus {
    FuzzSupport.wait { await router.handle(method: method, requests: [bytes]).status }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let method = methods[Int(data[0]) % methods.count]
    let status = call(makeRouter(), method, Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
    precondition(status.code != .internal && status.code != .unknown, "\(method) answered \(status)")
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.writeSeedsIfAsked {
        seedRequests().map { seed in
            let selector = UInt8(methods.firstIndex(of: seed.method) ?? 0)
            return (seed.name, [selector] + seed.bytes)
        }
    }
    return 0
}
