// rosetta-bench-search: exact and quantised top-k search of the Index module over vectors from a file.
//
//   rosetta-bench-search --vectors base.f32 --queries queries.f32 --dimensions 384 [--k 10] [--batches 1,32]
//                        [--seconds 2] [--threads 2] [--storages float32,int8,binary] [--rerank 10]
//                        [--min-candidates 100]
//                        [--ids-out exact_ids.i32]
//
// Files are raw little-endian float32, row-major (n x d). Prints one JSON object: for each storage and batch
// size, queries/s; recall@k of int8 and binary against float32 exact search; bytes per vector; and, with
// --ids-out, writes the float32 top-k row numbers of every query (int32, q x k) so bench.py can check them
// against FAISS. Driven by bench/search/bench.py.
import Foundation
import Index
import Tensor

struct Options {
    var vectors = ""
    var queries = ""
    var dimensions = 384
    var k = 10
    var batches = [1, 32]
    var seconds = 2.0
    var threads = 2
    var storages: [Storage] = [.float32, .int8, .binary]
    var rerank = 10
    var minCandidates = 100
    var idsOut: String?

    init(_ arguments: [String]) throws {
        var i = 1
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw BenchError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--vectors": vectors = try value()
            case "--queries": queries = try value()
            case "--dimensions": dimensions = Int(try value()) ?? 0
            case "--k": k = Int(try value()) ?? 10
            case "--batches": batches = try value().split(separator: ",").compactMap { Int($0) }
            case "--seconds": seconds = Double(try value()) ?? 2
            case "--threads": threads = Int(try value()) ?? 2
            case "--storages": storages = try value().split(separator: ",").compactMap { Storage(rawValue: String($0)) }
            case "--rerank": rerank = Int(try value()) ?? 10
            case "--min-candidates": minCandidates = Int(try value()) ?? 100
            case "--ids-out": idsOut = try value()
            default: throw BenchError("unknown argument \(arguments[i])")
            }
            i += 1
        }
        guard !vectors.isEmpty, !queries.isEmpty, dimensions > 0 else {
            throw BenchError("usage: rosetta-bench-search --vectors F --queries F --dimensions D")
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func readFloats(_ path: String, dimensions: Int) throws -> [[Float]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    let count = data.count / 4 / dimensions
    return data.withUnsafeBytes { raw in
        let floats = raw.bindMemory(to: Float.self)
        return (0..<count).map { Array(floats[($0 * dimensions) ..< (($0 + 1) * dimensions)]) }
    }
}

/// Runs `body` repeatedly for about `seconds` (after one warm-up call); returns calls per second.
func rate(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    try body()
    let start = ContinuousClock.now
    var calls = 0
    var elapsed = 0.0
    repeat {
        try body()
        calls += 1
        let d = ContinuousClock.now - start
        elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    } while elapsed < seconds
    return Double(calls) / elapsed
}

func main() async throws {
    let options = try Options(CommandLine.arguments)
    BLAS.setThreadCount(1)  // the index splits rows across its own workers, as the server does
    let d = options.dimensions
    let base = try readFloats(options.vectors, dimensions: d)
    let queries = try readFloats(options.queries, dimensions: d)
    var report: [String: Any] = [
        "n": base.count, "dimensions": d, "k": options.k, "threads": options.threads, "queries": queries.count,
        "blas_core": BLAS.coreName,
    ]
    var exact: [[String]] = []
    var results: [[String: Any]] = []
    for storage in options.storages {
        var configuration = LocalIndex.Configuration(dataDirectory: nil)
        configuration.searchThreads = options.threads
        configuration.binaryRerankFactor = options.rerank
        configuration.binaryMinCandidates = options.minCandidates
        let index = try LocalIndex(configuration)
        _ = try await index.createCollection(CollectionSpec(
            name: "bench", model: "", dimensions: d, modelDimensions: 0, metric: .dot, storage: storage,
            space: CollectionSpec.rawSpace(dimensions: d), createdUnixMs: 0))
        let loadStart = ContinuousClock.now
        for chunk in stride(from: 0, to: base.count, by: 20_000) {
            let items = (chunk ..< min(chunk + 20_000, base.count)).map { IndexItem(id: String($0), vector: base[$0]) }
            try await index.upsert(items, into: "bench")
        }
        let loadSeconds = Double((ContinuousClock.now - loadStart).components.seconds)
        let info = try await index.collection("bench")

        // Recall@k over every query, against float32 (the first storage measured must be float32).
        let top = try queries.map { try index.searchNow([SearchQuery(vector: $0, topK: options.k)], in: "bench")[0].map(\.id) }
        if storage == .float32 { exact = top }
        var recall: Double?
        if !exact.isEmpty {
            var total = 0.0
            for (found, truth) in zip(top, exact) {
                total += Double(Set(found).intersection(truth).count) / Double(max(1, truth.count))
            }
            recall = total / Double(queries.count)
        }

        var entry: [String: Any] = [
            "storage": storage.rawValue, "bytes_per_vector": info.vectorBytes / max(1, info.count),
            "load_seconds": loadSeconds,
        ]
        if let recall { entry["recall_at_k"] = recall }
        for batch in options.batches {
            let groups = stride(from: 0, to: queries.count - batch + 1, by: batch).map {
                queries[$0 ..< $0 + batch].map { SearchQuery(vector: $0, topK: options.k) }
            }
            var next = 0
            let calls = try rate(seconds: options.seconds) {
                _ = try index.searchNow(groups[next % groups.count], in: "bench")
                next += 1
            }
            entry["qps_batch_\(batch)"] = calls * Double(batch)
        }
        results.append(entry)
        FileHandle.standardError.write(Data("\(storage.rawValue): \(entry)\n".utf8))
    }
    report["results"] = results
    if let idsOut = options.idsOut, !exact.isEmpty {
        var rows = [Int32]()
        for ids in exact { rows += ids.map { Int32($0)! } + Array(repeating: -1, count: options.k - ids.count) }
        try rows.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: idsOut)) }
    }
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

do {
    try await main()
} catch {
    FileHandle.standardError.write(Data("rosetta-bench-search: \(error)\n".utf8))
    exit(1)
}
