// rosetta-bench-vision <model-dir> [--batches 1,16] [--seconds 2] [--threads 2] [--image photo.jpg]
//                      [--sgemm-only] [--precision float32|bfloat16]
// Prints one JSON line per batch size: images/s and GFLOP/s of EfficientNetLite.forward (preprocessed input,
// logits out; "precision": what it ran in, float32 when bfloat16 was asked of a CPU without AVX512-BF16), plus
// the decode + resize + crop rate of one photo (--image). --sgemm-only: the SGEMM peak line
// only (BenchSupport, as bench/text). Driven by bench/vision/bench.py.
import BenchSupport
import Encoders
import Foundation
import Media
import Tensor

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let positional = arguments.enumerated().filter { i, a in !a.hasPrefix("--") && (i == 0 || !arguments[i - 1].hasPrefix("--")) }.map(\.1)
let batches = option("--batches", "1,16").split(separator: ",").compactMap { Int($0) }
let seconds = Double(option("--seconds", "2")) ?? 2
let threads = Int(option("--threads", "2")) ?? 2
let imagePath = option("--image", "")
guard let precision = Precision(rawValue: option("--precision", "float32")) else {
    FileHandle.standardError.write(Data("rosetta-bench-vision: --precision is float32 or bfloat16\n".utf8))
    exit(2)
}
if arguments.contains("--sgemm-only") {
    print(try Bench.sgemmPeak(threads: threads, seconds: seconds))
    exit(0)
}
guard let modelDir = positional.first else {
    FileHandle.standardError.write(Data("usage: rosetta-bench-vision <model-dir> [--batches 1,16] [--seconds 2] [--threads 2] [--image photo.jpg] [--sgemm-only]\n".utf8))
    exit(2)
}
BLAS.setThreadCount(1)  // the encoder splits its own work over `threads` workers
let model = try EfficientNetLite(weights: try SafeTensors(path: modelDir + "/model.safetensors"), threads: threads,
                                 precision: precision)

if !imagePath.isEmpty {
    let data = try Data(contentsOf: URL(fileURLWithPath: imagePath))
    let pre = ImagePreprocessing(resize: 256, crop: 224, mean: [0.498, 0.498, 0.498], std: [0.502, 0.502, 0.502])
    let r = try Bench.rate(seconds: seconds) { _ = pre(try ImageDecoder.decode(data, maxPixels: 1 << 26)) }
    print("{\"decode_preprocess_per_s\": \(r)}")
}
for batch in batches {
    var rng = SystemRandomNumberGenerator()
    let size = model.imageSize
    let input = try Tensor(shape: [batch, size, size, 3], values: (0..<(batch * size * size * 3)).map { _ in Float.random(in: -1...1, using: &rng) })
    let (wall, cpu) = (Bench.now(), Bench.cpuTime())
    let r = try Bench.rate(seconds: seconds) { _ = try model.forward(input) } * Double(batch)
    // CPU share: CPU seconds per wall second over `threads` (1 = the cores were ours throughout).
    let share = (Bench.cpuTime() - cpu) / (Bench.now() - wall) / Double(threads)
    print("{\"batch\": \(batch), \"images_per_s\": \(r), \"gflops\": \(r * Double(model.flopsPerImage) / 1e9), \"cpu_share\": \(share), \"precision\": \"\(precision.effective.rawValue)\"}")
}
