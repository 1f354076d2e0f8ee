import Foundation
import Testing
import TestSupport
@testable import Spaces

/// Rosetta's transcription vs faster-whisper 1.2.1 `transcribe()` on the same model.bin
/// (models/reference_speech_decoding.py → Tests/Fixtures/audio/decoding/faster-whisper.json), greedy (beam_size 1)
/// and beam search (beam_size 5, the default), on the clips of models/speech_clips.py (8 sentences in 5 voices:
/// clean, 10 dB pink noise, slow female British, fast Caribbean, fast Scottish; 12 sounds without words):
/// - the transcript of every clip faster-whisper decoded at temperature 0 in every window is identical, word for
///   word (clips where it fell back to sampling depend on CTranslate2's random generator and are not compared);
/// - the trust rules keep words from every spoken clip and from no sound without words.
/// Needs models/whisper-tiny-en (models/fetch, or ROSETTA_MODELS_DIR); skipped when absent.
@Suite(.serialized) struct SpeechDecodingGoldenTests {
    static let golden = AudioFixtures.audio.appendingPathComponent("decoding/faster-whisper.json")

    /// file → (faster-whisper's transcript, whether it is deterministic), for the clips under decoding/.
    static func clips(_ setting: String) throws -> [(file: String, text: String, deterministic: Bool)] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as? [String: Any]
        let clips = json?["clips"] as? [String: [String: [String: Any]]] ?? [:]
        return clips.keys.sorted().filter { $0.hasPrefix("decoding/") }.compactMap { file in
            guard let entry = clips[file]?[setting], let text = entry["text"] as? String else { return nil }
            return (file, text, entry["deterministic"] as? Bool == true)
        }
    }

    @Test(.enabled(if: WhisperModel.available), arguments: [("greedy", 1), ("beam5", 5)])
    func transcriptsEqualFasterWhisperAndOnlySpeechIsTrusted(setting: String, beamSize: Int) throws {
        let recognizer = try WhisperModel.recognizer(SpeechDecoding(beamSize: beamSize))
        let clips = try Self.clips(setting)
        #expect(clips.count == 52)
        var identical = 0, compared = 0
        for clip in clips {
            let transcript = try recognizer.transcribe(AudioFixtures.data(clip.file))
            if clip.deterministic {
                compared += 1
                if transcript.decodedText == clip.text { identical += 1 }
                #expect(transcript.decodedText == clip.text, "\(setting) \(clip.file)")
            }
            let heard = transcript.segments.map { "'\($0.text)' (\($0.rejected ?? "kept"))" }
            if clip.file.hasPrefix("decoding/nonspeech/") {
                #expect(transcript.text.isEmpty, "\(setting) \(clip.file): words trusted in a sound without words: \(heard)")
            } else {
                #expect(!transcript.text.isEmpty, "\(setting) \(clip.file): spoken words refused: \(heard)")
            }
        }
        print("[speech decoding] \(setting): \(identical) of \(compared) deterministic clips identical to faster-whisper (\(clips.count) clips)")
    }
}
