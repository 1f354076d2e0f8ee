// rosetta-bench-text: throughput of the Swift BERT encoder (see bench/text/README.md).
//
// Prints one JSON object per line: {"kind":"sgemm", ...} with the measured SGEMM peak, then
// {"kind":"rosetta","batch":B,"tokens":L,"sentences_per_s":..,"gflops":..} per configuration.
// Usage: rosetta-bench-text <model-dir> [--threads N] [--batches 1,8,32] [--lengths 16,128] [--seconds S]
//        [--skip-sgemm | --sgemm-only] [--blas-threading] [--serve]
import Encoders
import Foundation
import Tensor

func argument(_ name: String, default value: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return value
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` repeatedly for at least `seconds` (after one warm-up call); returns calls per second.
func rate(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var calls = 0
    let start = now()
    var elapsed = 0.0
    repeat {
        try body()
        calls += 1
        elapsed = now() - start
    } while elapsed < seconds
    return Double(calls) / elapsed
}

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write("usage: rosetta-bench-text <model-dir> [--threads N] [--batches 1,8,32] [--lengths 16,128] [--seconds S]\n".data(using: .utf8)!)
    exit(2)
}
let dir = URL(fileURLWithPath: args[1])
let threads = Int(argument("--threads", default: "2"))!
let batches = argument("--batches", default: "1,8,32").split(separator: ",").map { Int($0)! }
let lengths = argument("--lengths", default: "16,128").split(separator: ",").map { Int($0)! }
let seconds = Double(argument("--seconds", default: "3"))!
BLAS.setThreadCount(threads)

do {
    // SGEMM peak: square products large enough to reach the kernel's steady state, measured two ways — OpenBLAS
    // using `threads` threads on one product, and `threads` single-threaded products at once (how Rosetta uses
    // BLAS) — the larger is the peak.
    let n = 1536
    if !args.contains("--skip-sgemm") {
        let operands = (0..<threads).map { _ in (Tensor(zeros: [n, n]), Tensor(zeros: [n, n]), Tensor(zeros: [n, n])) }
        for (a, b, _) in operands {
            for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
        }
        let flop = 2 * Double(n * n * n) / 1e9
        BLAS.setThreadCount(threads)
        let (a, b, c) = operands[0]
        let blasThreaded = try rate(seconds: seconds) { try Ops.matmul(a, b, transposeB: true, into: c) } * flop
        BLAS.setThreadCount(1)
        let concurrent = rate(seconds: seconds) {
            Parallel.forEach(threads) { t in
                let (a, b, c) = operands[t]
                try? Ops.matmul(a, b, transposeB: true, into: c)
            }
        } * flop * Double(threads)
        print(#"{"kind":"sgemm","n":\#(n),"threads":\#(threads),"gflops":\#(max(blasThreaded, concurrent)),"blas_threaded_gflops":\#(blasThreaded),"concurrent_gflops":\#(concurrent),"core":"\#(BLAS.coreName)"}"#)
    }

    if args.contains("--sgemm-only") { exit(0) }
    let config = try BERTConfig.load(from: dir.appendingPathComponent("config.json"))
    // Default: Rosetta's own threading (BLAS single-threaded inside). --blas-threading: one worker, OpenBLAS threads.
    let blasThreading = args.contains("--blas-threading")
    let model = try BERT(config: config, weights: try SafeTensors(path: dir.appendingPathComponent("model.safetensors").path),
                         threads: blasThreading ? 1 : threads)
    if blasThreading { BLAS.setThreadCount(threads) }
    var rng = SystemRandomNumberGenerator()
    /// Sentences per second of `batch` sentences of exactly `length` tokens ([CLS] random pieces [SEP]).
    func measure(batch: Int, length: Int, seconds: Double) throws -> String {
        let ids: [[Int32]] = (0..<batch).map { _ in
            [101] + (0..<(length - 2)).map { _ in Int32.random(in: 1000..<29000, using: &rng) } + [102]
        }
        let perSecond = try rate(seconds: seconds) { _ = try model.forward(batch: ids) } * Double(batch)
        let (d, dFF, L) = (Double(config.hiddenSize), Double(config.intermediateSize), Double(length))
        let flops = Double(config.numHiddenLayers) * (2 * L * d * (4 * d + 2 * dFF) + 4 * L * L * d)
        return #"{"kind":"rosetta","batch":\#(batch),"tokens":\#(length),"sentences_per_s":\#(perSecond),"gflops":\#(perSecond * flops / 1e9)}"#
    }
    if args.contains("--serve") {
        // One request per stdin line, "<batch> <tokens> <seconds>"; one JSON line back (bench.py interleaves
        // Rosetta with the other runtimes without reloading the model).
        while let line = readLine() {
            let f = line.split(separator: " ").compactMap { Double($0) }
            guard f.count == 3 else { continue }
            FileHandle.standardOutput.write((try measure(batch: Int(f[0]), length: Int(f[1]), seconds: f[2]) + "\n").data(using: .utf8)!)
        }
    } else {
        for length in lengths {
            for batch in batches { print(try measure(batch: batch, length: length, seconds: seconds)) }
        }
    }
} catch {
    FileHandle.standardError.write("rosetta-bench-text: \(error)\n".data(using: .utf8)!)
    exit(1)
}
