import Domain
import Foundation

/// Resolution of a BERT-family entry against its folder (the layout of a Hugging Face sentence-transformers
/// folder). Reads only small JSON files and the safetensors header, never the weights.
/// - required: config.json, model.safetensors, tokenizer.json or vocab.txt; every file the manifest lists;
/// - dimensions: config.json `hidden_size` (the manifest value, if given, must agree);
/// - max tokens: manifest, else sentence_bert_config.json `max_seq_length`, else tokenizer_config.json
///   `model_max_length`, else config.json `max_position_embeddings` (never above the position table);
/// - pooling: manifest, else the pooling config of the Pooling module in modules.json (default 1_Pooling/),
///   else mean; normalize: manifest, else whether modules.json lists a Normalize module;
/// - prompts: manifest, else config_sentence_transformers.json `prompts`;
/// - modules that change the vector (Dense, ...) are refused by name, and so is a config.json `model_type`
///   other than `bert` (RoBERTa, XLM-R, DistilBERT need other code);
/// - fingerprint: `ModelRegistry.fingerprint` over model.safetensors.
extension BERTSpec {
    public typealias SkipReason = ModelRegistry.SkipReason

    public static func resolve(_ entry: ModelManifest.Entry, folder: URL) throws(SkipReason) -> BERTSpec {
        try ModelRegistry.requireFiles(entry.files.map(\.path), in: folder)
        guard entry.architecture == .bert else { throw .architectureNotSupported(entry.architecture.rawValue) }
        func file(_ path: String) -> URL { folder.appendingPathComponent(path) }
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: file(path).path) }

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
        var folderPooling: Pooling?
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
        return BERTSpec(
            id: entry.id, architecture: entry.architecture, folder: folder, config: file("config.json"),
            weights: file("model.safetensors"), tokenizerDirectory: folder, dimensions: hiddenSize,
            maxTokens: limit, pooling: pooling, normalize: entry.normalize ?? hasNormalize, prompts: prompts ?? [:],
            instructionTemplate: entry.instructionTemplate, isDefault: entry.isDefault, lowercasesInput: lowercasesInput,
            version: version, weightsSHA256: entry.sha256(of: "model.safetensors"),
            fingerprint: try ModelRegistry.fingerprint(entry, weights: "model.safetensors", folder: folder))
    }

    /// sentence-transformers Pooling config -> one mode. Modes this build does not implement, and several modes
    /// at once (concatenated), are refused by name.
    static func pooling(from config: [String: Any], file: String) throws(SkipReason) -> Pooling {
        let unsupported = ["pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_lasttoken",
                           "pooling_mode_weightedmean_tokens"]
        if let mode = unsupported.first(where: { config[$0] as? Bool == true }) {
            throw .inconsistent(field: file, detail: "\(mode) is not supported (mean or CLS pooling only)")
        }
        let on = [("pooling_mode_cls_token", Pooling.cls), ("pooling_mode_mean_tokens", .mean)]
            .filter { config[$0.0] as? Bool == true }.map(\.1)
        guard on.count <= 1 else {
            throw .inconsistent(field: file, detail: "several pooling modes at once (\(on.map(\.rawValue))) are not supported")
        }
        return on.first ?? .mean
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
