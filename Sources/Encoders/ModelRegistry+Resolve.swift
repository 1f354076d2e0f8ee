import Foundation

/// Resolution of a manifest entry against its folder (see `ModelRegistry` for the rules). Reads only small
/// JSON files and the safetensors header, never the weights.
extension ModelRegistry {
    public static func resolve(_ entry: ModelManifest.Entry, folder: URL) throws(SkipReason) -> ModelSpec {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .folderMissing(path: folder.path)
        }
        func file(_ path: String) -> URL { folder.appendingPathComponent(path) }
        func exists(_ path: String) -> Bool { fm.fileExists(atPath: file(path).path) }
        for listed in entry.files where !exists(listed.path) { throw .fileMissing(path: file(listed.path).path) }
        guard entry.architecture == .bert else { throw .architectureNotSupported(entry.architecture.rawValue) }

        // config.json: the checkpoint's own shape.
        guard exists("config.json") else { throw .fileMissing(path: file("config.json").path) }
        let config = try json(file("config.json"))
        guard let hiddenSize = config["hidden_size"] as? Int, hiddenSize > 0 else {
            throw .inconsistent(field: "config.json", detail: "no positive integer hidden_size")
        }
        if let modelType = config["model_type"] as? String, modelType != "bert" {
            // RoBERTa/XLM-R shift positions and use other tokenizers; DistilBERT names tensors differently.
            throw .inconsistent(field: "config.json", detail: "model_type \(modelType) is not served by the bert architecture")
        }
        let maxPositions = config["max_position_embeddings"] as? Int ?? 512
        guard exists("model.safetensors") else {
            let hint = exists("pytorch_model.bin") ? " (pytorch_model.bin is not read: convert it to safetensors)" : ""
            throw .fileMissing(path: file("model.safetensors").path + hint)
        }
        guard exists("tokenizer.json") || exists("vocab.txt") else {
            throw .fileMissing(path: file("tokenizer.json").path + " or vocab.txt")
        }

        // sentence-transformers modules: Transformer, Pooling, optional Normalize; anything else changes the vector.
        var poolingFolder = "1_Pooling"
        var hasNormalize = false
        if exists("modules.json") {
            guard let modules = try jsonValue(file("modules.json")) as? [[String: Any]] else {
                throw .inconsistent(field: "modules.json", detail: "not a list of modules")
            }
            for module in modules {
                let type = (module["type"] as? String ?? "").split(separator: ".").last.map(String.init) ?? ""
                switch type {
                case "Transformer": break
                case "Pooling": poolingFolder = module["path"] as? String ?? poolingFolder
                case "Normalize": hasNormalize = true
                default: throw .inconsistent(field: "modules.json", detail: "module \(module["type"] ?? "?") is not supported")
                }
            }
        }
        var folderPooling: ModelManifest.Pooling?
        let poolingConfig = "\(poolingFolder)/config.json"
        if entry.pooling == nil, exists(poolingConfig) {
            folderPooling = try pooling(from: json(file(poolingConfig)), file: poolingConfig)
        }
        let pooling = entry.pooling ?? folderPooling ?? .mean

        if let d = entry.dimensions, d != hiddenSize {
            throw .inconsistent(field: "dimensions", detail: "manifest says \(d), config.json hidden_size is \(hiddenSize)")
        }
        var maxTokens = entry.maxTokens
        var lowercasesInput = false
        if exists("sentence_bert_config.json") {
            let st = try json(file("sentence_bert_config.json"))
            maxTokens = maxTokens ?? st["max_seq_length"] as? Int
            lowercasesInput = st["do_lower_case"] as? Bool ?? false
        }
        if maxTokens == nil, exists("tokenizer_config.json"),
           let n = try json(file("tokenizer_config.json"))["model_max_length"] as? Double, n > 0, n < 1e9 {
            maxTokens = Int(n)
        }
        let limit = min(maxTokens ?? maxPositions, maxPositions)
        if let m = entry.maxTokens, m > maxPositions {
            throw .inconsistent(field: "max_tokens", detail: "manifest says \(m), the position table holds \(maxPositions)")
        }

        var prompts = entry.prompts
        if prompts == nil, exists("config_sentence_transformers.json") {
            prompts = try json(file("config_sentence_transformers.json"))["prompts"] as? [String: String]
        }

        let version = entry.source?.version ?? "local"
        let weightsSHA = entry.sha256(of: "model.safetensors")
        var identity = weightsSHA ?? ""
        if weightsSHA == nil { identity = try headerIdentity(file("model.safetensors")) }
        return ModelSpec(
            id: entry.id, architecture: entry.architecture, folder: folder, config: file("config.json"),
            weights: file("model.safetensors"), tokenizerDirectory: folder, dimensions: hiddenSize,
            maxTokens: limit, pooling: pooling, normalize: entry.normalize ?? hasNormalize, prompts: prompts ?? [:],
            instructionTemplate: entry.instructionTemplate, isDefault: entry.isDefault, lowercasesInput: lowercasesInput,
            version: version,
            weightsSHA256: weightsSHA, fingerprint: fingerprint(id: entry.id, weights: identity, version: version))
    }

    /// "<id>:<FNV-1a 64 hex>" over a versioned domain string, the id, weights identity and version.
    public static func fingerprint(id: String, weights: String, version: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "rosetta-space-v1\0\(id)\0\(weights)\0\(version)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\(id):" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// sentence-transformers Pooling config -> one mode; several modes at once (concatenated) are refused.
    static func pooling(from config: [String: Any], file: String) throws(SkipReason) -> ModelManifest.Pooling {
        let modes: [(String, ModelManifest.Pooling)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_mean_tokens", .mean), ("pooling_mode_max_tokens", .max),
            ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLen), ("pooling_mode_lasttoken", .lastToken),
        ]
        let on = modes.filter { config[$0.0] as? Bool == true }.map(\.1)
        if config["pooling_mode_weightedmean_tokens"] as? Bool == true {
            throw .inconsistent(field: file, detail: "weighted-mean pooling is not supported")
        }
        guard on.count <= 1 else {
            throw .inconsistent(field: file, detail: "several pooling modes at once (\(on.map(\.rawValue))) are not supported")
        }
        return on.first ?? .mean
    }

    /// Throws `folderMissing` for an absent model folder, else `fileMissing` for the first of `names` (relative
    /// to the folder) that is absent.
    static func requireFiles(_ names: [String], in folder: URL) throws(SkipReason) {
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder.path) else { throw .folderMissing(path: folder.path) }
        for name in names where !fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
            throw .fileMissing(path: folder.appendingPathComponent(name).path)
        }
    }

    /// Size plus safetensors header: "size:<n>:header:<FNV-1a 64 of the header JSON>".
    static func headerIdentity(_ url: URL) throws(SkipReason) -> String {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            let lengthBytes = try handle.read(upToCount: 8) ?? Data()
            guard lengthBytes.count == 8 else { throw SkipReason.loadFailed("\(url.path): shorter than a safetensors header") }
            let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= 100_000_000, length + 8 <= size else {
                throw SkipReason.loadFailed("\(url.path): safetensors header length \(length) is invalid")
            }
            let header = try handle.read(upToCount: Int(length)) ?? Data()
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in header {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return "size:\(size):header:\(String(hash, radix: 16))"
        } catch let error as SkipReason {
            throw error
        } catch {
            throw .loadFailed("\(url.path): \(error.localizedDescription)")
        }
    }

    private static func jsonValue(_ url: URL) throws(SkipReason) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        } catch {
            throw .inconsistent(field: url.lastPathComponent, detail: "unreadable or invalid JSON: \(error.localizedDescription)")
        }
    }

    private static func json(_ url: URL) throws(SkipReason) -> [String: Any] {
        guard let object = try jsonValue(url) as? [String: Any] else {
            throw .inconsistent(field: url.lastPathComponent, detail: "not a JSON object")
        }
        return object
    }
}
