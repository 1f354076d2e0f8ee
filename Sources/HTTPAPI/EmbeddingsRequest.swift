import Foundation
import RosettaAPI
import Service

/// A `POST /v1/embeddings` body (OpenAI's embeddings request, https://platform.openai.com/docs/api-reference/embeddings/create)
/// as the EmbedRequest that Embed takes, so both transports share one validation path (`EmbeddingsService.embed`).
///
/// OpenAI's fields: `input` (a string, or a list whose items are strings or OpenAI content parts:
/// `{"type": "text", "text": ...}`, `{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}`,
/// `{"type": "input_audio", "input_audio": {"data": "<base64>", "format": "wav"}}`; token-id lists are refused),
/// `model` (empty or absent: the default model), `encoding_format` (`float`, the default, or `base64`: the
/// little-endian float32 bytes), `dimensions` (Matryoshka truncation and renormalisation, as Embed's), `user`
/// (accepted, unused). Rosetta's own: `instruction`, `prompt_name`, `pooling` (default, mean, cls, instruction),
/// `truncate` (end, start, none), `normalize` (default true) and two more encodings, `int8` (integers and a
/// `scale` per vector) and `binary` (sign bits packed most significant first, as byte values). Unknown fields are
/// refused, so that a misspelt option is not silently ignored.
struct EmbeddingsRequest {
    enum Format: String, CaseIterable {
        case float, base64, int8, binary
    }

    static let fields: Set<String> = [
        "input", "model", "encoding_format", "dimensions", "user",
        "instruction", "prompt_name", "pooling", "truncate", "normalize",
    ]

    var embed = Rosetta_V1_EmbedRequest()
    var format = Format.float
    /// `image_url` parts that name an http(s) URL: their inputs stay empty until `fetchRemoteImages`.
    private(set) var remoteImages: [(position: Int, url: URL)] = []

    init(_ body: JSONValue) throws(ServiceError) {
        guard case .object(let members) = body else {
            throw .invalidArgument("the body must be a JSON object with at least 'input' and 'model', got \(body.typeName)")
        }
        if let unknown = members.map(\.key).first(where: { !Self.fields.contains($0) }) {
            throw .invalidArgument("unknown field '\(unknown)'; the fields are \(Self.fields.sorted().joined(separator: ", "))")
        }
        guard let input = body["input"] else {
            throw .invalidArgument("'input' is missing: give a string or a list of strings and content parts")
        }
        for (position, part) in try Self.parts(input).enumerated() {
            switch part {
            case .input(let input):
                embed.inputs.append(input)
            case .remoteImage(let url):
                embed.inputs.append(Rosetta_V1_Input())
                remoteImages.append((position, url))
            }
        }
        embed.model = try Self.string(body, "model") ?? ""
        if let name = try Self.string(body, "encoding_format") {
            guard let format = Format(rawValue: name) else {
                throw .invalidArgument("encoding_format '\(name)' is not one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.format = format
        }
        embed.encoding = switch format {
        case .float, .base64: .float32
        case .int8: .int8
        case .binary: .binary
        }
        if let dimensions = body["dimensions"], dimensions != .null {
            guard case .number(let value) = dimensions, value == value.rounded(), value >= 1, value <= Double(UInt32.max) else {
                throw .invalidArgument("dimensions must be a whole number of at least 1, got \(dimensions.serialized)")
            }
            embed.dimensions = UInt32(value)
        }
        _ = try Self.string(body, "user")
        embed.instruction = try Self.string(body, "instruction") ?? ""
        embed.promptName = try Self.string(body, "prompt_name") ?? ""
        if let pooling = try Self.string(body, "pooling") {
            let known: [String: Rosetta_V1_Pooling] = ["default": .default, "mean": .mean, "cls": .cls, "instruction": .instruction]
            guard let value = known[pooling] else {
                throw .invalidArgument("pooling '\(pooling)' is not one of \(known.keys.sorted().joined(separator: ", "))")
            }
            embed.pooling = value
        }
        if let truncate = try Self.string(body, "truncate") {
            let known: [String: Rosetta_V1_Truncate] = ["end": .end, "start": .start, "none": .none]
            guard let value = known[truncate] else {
                throw .invalidArgument("truncate '\(truncate)' is not one of \(known.keys.sorted().joined(separator: ", "))")
            }
            embed.truncate = value
        }
        if let normalize = body["normalize"], normalize != .null {
            guard case .bool(let value) = normalize else {
                throw .invalidArgument("normalize must be true or false, got \(normalize.serialized)")
            }
            embed.normalize = value
        }
    }

    private static func string(_ body: JSONValue, _ key: String) throws(ServiceError) -> String? {
        switch body[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidArgument("\(key) must be a string, got \(other.typeName)")
        }
    }

    /// Fills the inputs of the `image_url` parts that name http(s) URLs with the fetched images; `remote` nil
    /// (the operator did not enable fetching) refuses them.
    mutating func fetchRemoteImages(_ remote: RemoteMedia?) async throws(ServiceError) {
        guard let first = remoteImages.first else { return }
        guard let remote else {
            throw .invalidArgument("input[\(first.position)].image_url.url: this server does not fetch remote URLs (its operator can enable it with --remote-media); send the image inline as a data URI, data:image/jpeg;base64,<the file's bytes in base64>")
        }
        var budget = remote.maximumBytes
        for (position, url) in remoteImages {
            let image = try await remote.fetch(url, name: "input[\(position)].image_url.url", budget: &budget)
            embed.inputs[position].image = Rosetta_V1_Media(image.body, mimeType: image.mimeType)
        }
    }

    /// One item of `input`: an input as it is, or an image still to fetch.
    private enum Part {
        case input(Rosetta_V1_Input)
        case remoteImage(URL)
    }

    private static func parts(_ input: JSONValue) throws(ServiceError) -> [Part] {
        switch input {
        case .string(let text):
            return [.input(.text(text))]
        case .array(let items):
            guard !items.isEmpty else {
                throw .invalidArgument("input is an empty list: give at least one string or content part")
            }
            if items.allSatisfy({ if case .number = $0 { true } else { false } }) || items.contains(where: Self.isTokenList) {
                throw .invalidArgument("input holds token ids: this server tokenizes for itself, so send the text as strings")
            }
            var parts: [Part] = []
            parts.reserveCapacity(items.count)
            for (position, item) in items.enumerated() {
                parts.append(try Self.part(item, position: position))
            }
            return parts
        default:
            throw .invalidArgument("input must be a string or a list of strings and content parts, got \(input.typeName)")
        }
    }

    private static func isTokenList(_ value: JSONValue) -> Bool {
        guard case .array(let values) = value, let first = values.first, case .number = first else { return false }
        return true
    }

    private static func part(_ item: JSONValue, position: Int) throws(ServiceError) -> Part {
        let name = "input[\(position)]"
        switch item {
        case .string(let text):
            return .input(.text(text))
        case .object:
            guard case .string(let type)? = item["type"] else {
                throw .invalidArgument("\(name) is an object without a string 'type': use text, image_url or input_audio")
            }
            switch type {
            case "text":
                guard case .string(let text)? = item["text"] else {
                    throw .invalidArgument("\(name) is a text part without a string 'text'")
                }
                return .input(.text(text))
            case "image_url":
                let url: String
                switch item["image_url"] {
                case .string(let value)?: url = value
                case let part? where part["url"] != nil:
                    guard case .string(let value)? = part["url"] else {
                        throw .invalidArgument("\(name).image_url.url must be a string")
                    }
                    url = value
                default:
                    throw .invalidArgument("\(name) is an image_url part without image_url.url")
                }
                return try Self.image(url, name: "\(name).image_url.url")
            case "input_audio":
                guard let audio = item["input_audio"], case .string(let data)? = audio["data"] else {
                    throw .invalidArgument("\(name) is an input_audio part without input_audio.data (the audio file, base64)")
                }
                var format = ""
                if let value = audio["format"] {
                    guard case .string(let text) = value else {
                        throw .invalidArgument("\(name).input_audio.format must be a string such as \"wav\" or \"flac\"")
                    }
                    format = text
                }
                guard let bytes = Data(base64Encoded: data), !bytes.isEmpty else {
                    throw .invalidArgument("\(name).input_audio.data is not base64 (RFC 4648, with padding) of an audio file")
                }
                var input = Rosetta_V1_Input()
                input.audio = Rosetta_V1_Media(bytes, mimeType: format.isEmpty ? "" : "audio/\(format.lowercased())")
                return .input(input)
            default:
                throw .invalidArgument("\(name) has type '\(type)'; the content parts are text, image_url and input_audio")
            }
        default:
            throw .invalidArgument("\(name) must be a string or a content part object, got \(item.typeName)")
        }
    }

    /// An image from a `data:` URI (RFC 2397, base64), or an http(s) URL to fetch later (`RemoteMedia`).
    private static func image(_ url: String, name: String) throws(ServiceError) -> Part {
        let lowered = url.prefix(8).lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            guard let remote = URL(string: url), remote.host?.isEmpty == false else {
                throw .invalidArgument("\(name) is not a valid http(s) URL")
            }
            return .remoteImage(remote)
        }
        guard lowered.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else {
            throw .invalidArgument("\(name) must be a data URI, data:image/png;base64,<the file's bytes in base64>")
        }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.lowercased().hasSuffix(";base64") else {
            throw .invalidArgument("\(name) is a data URI without ';base64': send the image bytes base64-encoded")
        }
        guard let bytes = Data(base64Encoded: String(url[url.index(after: comma)...])), !bytes.isEmpty else {
            throw .invalidArgument("\(name) does not hold base64 (RFC 4648, with padding) after the comma")
        }
        var input = Rosetta_V1_Input()
        input.image = Rosetta_V1_Media(bytes, mimeType: String(header.dropLast(";base64".count)))
        return .input(input)
    }
}

extension Rosetta_V1_Media {
    init(_ data: Data, mimeType: String) {
        self.init()
        self.data = data
        self.mimeType = mimeType
    }
}

extension Rosetta_V1_Input {
    static func text(_ text: String) -> Self {
        var input = Self()
        input.text = text
        return input
    }
}
