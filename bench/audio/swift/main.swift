// rosetta-bench-audio <whisper-dir> <threads> <rounds> <beam size> <audio file>...
// Transcribes each file with Rosetta's speech recogniser (decode + resample, log-mel, encoder and decoder per
// window as faster-whisper's transcribe(): timestamps, temperature fallback, conditioning; `beam size` 1 is greedy)
// `rounds` times and prints one JSON line per file: the best round's seconds, the audio length and the transcript.
// bench/audio/bench.py runs faster-whisper on the same files and prints the real-time-factor ratios.
import Encoders
import Foundation
import Media
import Spaces
import Tensor

let args = CommandLine.arguments
guard args.count >= 6, let threads = Int(args[2]), let rounds = Int(args[3]), let beamSize = Int(args[4]) else {
    FileHandle.standardError.write(Data("usage: rosetta-bench-audio <whisper-dir> <threads> <rounds> <beam size> <audio file>...\n".utf8))
    exit(2)
}
BLAS.setThreadCount(1)
let folder = URL(fileURLWithPath: args[1])
let model: LoadedSpeechModel
do {
    model = try LoadedSpeechModel.load(ModelManifest.Entry(id: "whisper", architecture: .whisper), folder: folder, options: LoadOptions(threads: threads))
} catch {
    FileHandle.standardError.write(Data("cannot load \(folder.path): \(error)\n".utf8))
    exit(1)
}
let recognizer = SpeechRecognizer(model: model, audio: AudioDecoder(maxSeconds: 600), decoding: SpeechDecoding(beamSize: beamSize))
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

for path in args[5...] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var best = Double.infinity
    var transcript: SpeechRecognizer.Transcript?
    for _ in 0..<rounds {
        let t = now()
        transcript = try recognizer.transcribe(data)
        best = min(best, now() - t)
    }
    let object: [String: Any] = ["file": path, "audio_seconds": transcript?.seconds ?? 0, "seconds": ["total": best],
                                 "text": transcript?.decodedText ?? ""]
    let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}
