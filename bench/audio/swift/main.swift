// rosetta-bench-audio <whisper-dir> <threads> <rounds> <audio file>...
// Transcribes each file with Rosetta's Whisper (decode + resample, log-mel, encoder, greedy decoder) `rounds`
// times and prints one JSON line per file: the best round's seconds per stage, the audio length and the
// transcript. bench/audio/bench.py runs CTranslate2 on the same files and prints the real-time-factor ratios.
import Encoders
import Foundation
import Media
import Tensor

let args = CommandLine.arguments
guard args.count >= 5, let threads = Int(args[2]), let rounds = Int(args[3]) else {
    FileHandle.standardError.write("usage: rosetta-bench-audio <whisper-dir> <threads> <rounds> <audio file>...\n".data(using: .utf8)!)
    exit(2)
}
BLAS.setThreadCount(1)
let folder = URL(fileURLWithPath: args[1])
let model: LoadedSpeechModel
do {
    model = try LoadedSpeechModel.load(ModelManifest.Entry(id: "whisper", architecture: .whisper), folder: folder, options: LoadOptions(threads: threads))
} catch {
    FileHandle.standardError.write("cannot load \(folder.path): \(error)\n".data(using: .utf8)!)
    exit(1)
}
let audio = AudioDecoder(maxSeconds: 600)
let features = WhisperFeatures()
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

for path in args[4...] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var best: [String: Double] = [:]
    var text = "", seconds = 0.0
    for _ in 0..<rounds {
        var t = now(), times: [String: Double] = [:]
        let samples = try audio.decode(data, rate: 16_000)
        times["decode"] = now() - t; t = now()
        let (values, _, content) = features(samples)
        times["features"] = now() - t
        seconds = Double(samples.count) / 16_000
        var words: [String] = []
        var encode = 0.0, decode = 0.0
        let windows = max(1, (content + 2_999) / 3_000)
        for w in 0..<windows {
            t = now()
            let states = try model.whisper.encode(features.window(values, contentFrames: content, index: w))
            encode += now() - t; t = now()
            words.append(try model.decoder.decode(states).text)
            decode += now() - t
        }
        times["encoder"] = encode
        times["decoder"] = decode
        times["total"] = times.values.reduce(0, +)
        if best["total"] == nil || times["total"]! < best["total"]! { best = times }
        text = words.joined()
    }
    let object: [String: Any] = ["file": path, "audio_seconds": seconds, "seconds": best, "text": text]
    let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}
