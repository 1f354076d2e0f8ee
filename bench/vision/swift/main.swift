// rosetta-bench-vision <model-dir> [--batches 1,16] [--seconds 2] [--threads 2] [--image photo.jpg]
// Prints one JSON line per batch size: images/s of EfficientNetLite.forward (preprocessed input, logits out),
// plus the decode + resize + crop cost of one photo. Driven by bench/vision/bench.py.
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
let seconds = Double(option("--seconds", "2"))!
let threads = Int(option("--threads", "2"))!
let imagePath = option("--image", "")
guard let modelDir = positional.first else {
    FileHandle.standardError.write(Data("usage: rosetta-bench-vision <model-dir> [--batches 1,16] [--seconds 2] [--threads 2]\n".utf8))
    exit(2)
}
BLAS.setThreadCount(1)  // the encoder splits its own work over `threads` workers
let model = try EfficientNetLite(weights: try SafeTensors(path: modelDir + "/model.safetensors"), threads: threads)

func rate(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var n = 0
    let start = Date()
    while true {
        try body()
        n += 1
        let elapsed = Date().timeIntervalSince(start)
        if elapsed >= seconds { return Double(n) / elapsed }
    }
}

if !imagePath.isEmpty {
    let data = try Data(contentsOf: URL(fileURLWithPath: imagePath))
    let pre = ImagePreprocessing(resize: 256, crop: 224, mean: [0.498, 0.498, 0.498], std: [0.502, 0.502, 0.502])
    let r = try rate { _ = pre(try ImageDecoder.decode(data, maxPixels: 1 << 26)) }
    print("{\"decode_preprocess_per_s\": \(r)}")
}
for batch in batches {
    var rng = SystemRandomNumberGenerator()
    let input = try Tensor(shape: [batch, 224, 224, 3], values: (0..<(batch * 224 * 224 * 3)).map { _ in Float.random(in: -1...1, using: &rng) })
    let r = try rate { _ = try model.forward(input) }
    print("{\"batch\": \(batch), \"images_per_s\": \(r * Double(batch))}")
}
