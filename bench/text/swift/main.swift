// rosetta-bench-text: throughput of the Swift BERT encoder (see bench/text/README.md).
//
// Prints one JSON object per line: {"kind":"sgemm", ...} with the measured SGEMM peak, then
// {"kind":"rosetta","batch":B,"tokens":L,"sentences_per_s":..,"gflops":..,"precision":..} per configuration
// (precision: what the model runs in, float32 when bfloat16 was asked of a CPU without AVX512-BF16).
// Usage: rosetta-bench-text <model-dir> [--threads N] [--batches 1,8,32] [--lengths 16,128] [--seconds S]
//        [--skip-sgemm | --sgemm-only] [--blas-threading] [--serve] [--precision float32|bfloat16]
import BenchSupport
import Encoders
import Foundation
import Tensor

func argument(_ name: String, default value: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return value
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
guard let precision = Precision(rawValue: argument("--precision", default: "float32")) else {
    FileHandle.standardError.write("rosetta-bench-text: --precision is float32 or bfloat16\n".data(using: .utf8)!)
    exit(2)
}
BLAS.setThreadCount(threads)

do {
    // SGEMM peak (BenchSupport, shared with bench/vision); leaves OpenBLAS at 1 thread as before.
    if !args.contains("--skip-sgemm") {
        print(try Bench.sgemmPeak(threads: threads, seconds: seconds))
        BLAS.setThreadCount(1)
    }

    if args.contains("--sgemm-only") { exit(0) }
    let config = try BERTConfig.load(from: dir.appendingPathComponent("config.json"))
    // Default: Rosetta's own threading (BLAS single-threaded inside). --blas-threading: one worker, OpenBLAS threads.
    let blasThreading = args.contains("--blas-threading")
    let model = try BERT(config: config, weights: try SafeTensors(path: dir.appendingPathComponent("model.safetensors").path),
                         threads: blasThreading ? 1 : threads, precision: precision)
    if blasThreading { BLAS.setThreadCount(threads) }
    var rng = SystemRandomNumberGenerator()
    /// Sentences per second of `batch` sentences of exactly `length` tokens ([CLS] random pieces [SEP]).
    func measure(batch: Int, length: Int, seconds: Double) throws -> String {
        let ids: [[Int32]] = (0..<batch).map { _ in
            [101] + (0..<(length - 2)).map { _ in Int32.random(in: 1000..<29000, using: &rng) } + [102]
        }
        let perSecond = try Bench.rate(seconds: seconds) { _ = try model.forward(batch: ids) } * Double(batch)
        let (d, dFF, L) = (Double(config.hiddenSize), Double(config.intermediateSize), Double(length))
        let flops = Double(config.numHiddenLayers) * (2 * L * d * (4 * d + 2 * dFF) + 4 * L * L * d)
        return #"{"kind":"rosetta","batch":\#(batch),"tokens":\#(length),"sentences_per_s":\#(perSecond),"gflops":\#(perSecond * flops / 1e9),"precision":"\#(precision.effective.rawValue)"}"#
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
