import Foundation
import TestSupport
import Encoders
import Media
@testable import Spaces

/// The Whisper tiny.en model of the audio tests, loaded once.
enum WhisperModel {
    static let folder = RepositoryPaths.models.appendingPathComponent("whisper-tiny-en")
    static let available = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.bin").path)
    static let loaded = Result { () throws -> LoadedSpeechModel in
        let entry = ModelManifest.Entry(id: "whisper-tiny-en", architecture: .whisper)
        return try LoadedSpeechModel.load(entry, folder: folder, options: LoadOptions(threads: 2))
    }

    static func recognizer(_ decoding: SpeechDecoding = SpeechDecoding()) throws -> SpeechRecognizer {
        SpeechRecognizer(model: try loaded.get(), audio: AudioDecoder(maxSeconds: 120), decoding: decoding)
    }
}
