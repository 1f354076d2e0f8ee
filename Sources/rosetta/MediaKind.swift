import ArgumentParser
import Foundation
import RosettaAPI

/// What a file on disk is to the server, judged by its extension (also `search --modality`).
enum MediaKind: String, Sendable, CaseIterable, ExpressibleByArgument {
    case text, image, audio

    static let extensions: [String: MediaKind] = [
        "png": .image, "jpg": .image, "jpeg": .image,
        "wav": .audio, "flac": .audio, "ogg": .audio, "oga": .audio, "mp3": .audio,
        "txt": .text, "md": .text,
    ]

    /// The kind of `path`, or nil for a file the server does not take.
    init?(path: String) {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let kind = Self.extensions[ext] else { return nil }
        self = kind
    }

    /// MIME type from the extension (a hint for the server; it sniffs the bytes too).
    static func mimeType(path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "wav": "audio/wav"
        case "flac": "audio/flac"
        case "ogg", "oga": "audio/ogg"
        case "mp3": "audio/mpeg"
        default: ""
        }
    }

    var modality: Rosetta_V1_Modality {
        switch self {
        case .text: .text
        case .image: .image
        case .audio: .audio
        }
    }
}

extension Rosetta_V1_Input {
    static func textInput(_ text: String) -> Self {
        var input = Self()
        input.text = text
        return input
    }

    /// An image or audio input holding the bytes of `data`, read from `path`.
    static func media(_ kind: MediaKind, data: Data, path: String) -> Self {
        var media = Rosetta_V1_Media()
        media.data = data
        media.mimeType = MediaKind.mimeType(path: path)
        var input = Self()
        switch kind {
        case .image: input.image = media
        case .audio: input.audio = media
        case .text: input.text = String(decoding: data, as: UTF8.self)
        }
        return input
    }

    /// Reads `path` for a command-line option such as --image.
    static func file(_ path: String, as kind: MediaKind, option: String) throws -> Self {
        do {
            return .media(kind, data: try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        } catch {
            throw CLIError("cannot read \(option) \(path): \(error.localizedDescription)")
        }
    }
}

extension Rosetta_V1_Modality {
    /// The lower-case name used in tables and JSON: text, image, audio, vector.
    var name: String {
        switch self {
        case .text: "text"
        case .image: "image"
        case .audio: "audio"
        case .vector: "vector"
        default: "unspecified"
        }
    }
}
