import Foundation

/// Loading a `WordPieceTokenizer` from a Hugging Face model folder.
///
/// `tokenizer.json` (the `tokenizers` serialisation) is preferred: `model` must be `WordPiece`, the
/// normalizer `BertNormalizer` (or absent), the pre-tokenizer `BertPreTokenizer`. Its `added_tokens` are
/// matched verbatim in the raw text ([CLS], [SEP], [MASK], …); [CLS]/[SEP] come from the post-processor
/// (TemplateProcessing or BertProcessing). Approximations, none of which BERT-family sentence models use:
/// an added token with `normalized: true` is still matched in the raw text, `single_word` is ignored
/// (`lstrip`/`rstrip` only move whitespace, which the pre-tokenizer drops anyway).
/// Its `truncation`/`padding` blocks are ignored: callers pass `maxTokens`.
///
/// Otherwise `vocab.txt` (one token per line, id = line number) with `tokenizer_config.json`
/// (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`, special token names), as `BertTokenizerFast`
/// converts a slow tokenizer.
///
/// In both cases `model_max_length` of tokenizer_config.json becomes `modelMaxLength`.
extension WordPieceTokenizer {
    public static func load(directory: URL) throws -> WordPieceTokenizer {
        let fm = FileManager.default
        let tokenizerJSON = directory.appendingPathComponent("tokenizer.json")
        let vocabTXT = directory.appendingPathComponent("vocab.txt")
        let config = try readConfig(directory.appendingPathComponent("tokenizer_config.json"))
        if fm.fileExists(atPath: tokenizerJSON.path) {
            return try load(tokenizerJSON: tokenizerJSON, config: config)
        }
        if fm.fileExists(atPath: vocabTXT.path) {
            return try load(vocabTXT: vocabTXT, config: config)
        }
        throw TokenizerError.missingFiles(directory: directory.path)
    }

    // MARK: tokenizer.json

    static func load(tokenizerJSON url: URL, config: [String: Any]) throws -> WordPieceTokenizer {
        let file = url.lastPathComponent
        let root = try readObject(url)
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(file: file, reason: "missing object \"model\"")
        }
        let modelType = model["type"] as? String ?? "WordPiece"
        guard modelType == "WordPiece" else { throw TokenizerError.unsupported(file: file, feature: "model.type \(modelType)") }
        guard let rawVocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformed(file: file, reason: "model.vocab is not an object of token -> id")
        }
        var vocab = [String: Int32](minimumCapacity: rawVocab.count)
        for (token, value) in rawVocab {
            guard let id = (value as? NSNumber)?.int32Value else {
                throw TokenizerError.malformed(file: file, reason: "model.vocab[\(token)] is not an integer")
            }
            vocab[token] = id
        }

        var normalizer = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        if let n = root["normalizer"] as? [String: Any] {
            let type = n["type"] as? String ?? "?"
            guard type == "BertNormalizer" else { throw TokenizerError.unsupported(file: file, feature: "normalizer.type \(type)") }
            let lowercase = n["lowercase"] as? Bool ?? true
            normalizer = BertNormalizer(cleanText: n["clean_text"] as? Bool ?? true,
                                        handleChineseChars: n["handle_chinese_chars"] as? Bool ?? true,
                                        stripAccents: n["strip_accents"] as? Bool, lowercase: lowercase)
        }
        let preType = (root["pre_tokenizer"] as? [String: Any])?["type"] as? String ?? "none"
        guard preType == "BertPreTokenizer" else { throw TokenizerError.unsupported(file: file, feature: "pre_tokenizer.type \(preType)") }

        var specials: [String: Int32] = [:]
        for case let added as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let content = added["content"] as? String, let id = (added["id"] as? NSNumber)?.int32Value else {
                throw TokenizerError.malformed(file: file, reason: "added_tokens entry without content/id")
            }
            // Every added token is matched in the text, special or not, as `tokenizers` does.
            specials[content] = id
        }

        var cls = tokenName(config["cls_token"]) ?? "[CLS]"
        var sep = tokenName(config["sep_token"]) ?? "[SEP]"
        if let post = root["post_processor"] as? [String: Any] {
            switch post["type"] as? String {
            case "BertProcessing":
                if let c = (post["cls"] as? [Any])?.first as? String { cls = c }
                if let s = (post["sep"] as? [Any])?.first as? String { sep = s }
            case "TemplateProcessing":
                // single: [SpecialToken CLS, Sequence A, SpecialToken SEP]
                let single = (post["single"] as? [[String: Any]]) ?? []
                let names = single.map { ($0["SpecialToken"] as? [String: Any])?["id"] as? String }
                guard names.count == 3, let first = names[0], names[1] == nil, let last = names[2] else {
                    throw TokenizerError.unsupported(file: file, feature: "post_processor template other than [CLS] A [SEP]")
                }
                cls = first
                sep = last
            case nil:
                break
            case let other?:
                throw TokenizerError.unsupported(file: file, feature: "post_processor.type \(other)")
            }
        }
        return try WordPieceTokenizer(
            vocabulary: vocab, normalizer: normalizer,
            unkToken: model["unk_token"] as? String ?? "[UNK]", clsToken: cls, sepToken: sep,
            specialTokens: specials,
            continuingSubwordPrefix: model["continuing_subword_prefix"] as? String ?? "##",
            maxInputCharsPerWord: (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? 100,
            modelMaxLength: modelMaxLength(config))
    }

    // MARK: vocab.txt

    static func load(vocabTXT url: URL, config: [String: Any]) throws -> WordPieceTokenizer {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.malformed(file: url.lastPathComponent, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.malformed(file: url.lastPathComponent, reason: "not UTF-8")
        }
        var vocab: [String: Int32] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for (index, line) in lines.enumerated() {
            // `tokenizers` reads vocab.txt with `trim_end`.
            var token = Substring(line)
            while let last = token.unicodeScalars.last, last.properties.isWhitespace {
                token = Substring(token.unicodeScalars.dropLast())
            }
            vocab[String(token)] = Int32(index)
        }
        let lowercase = config["do_lower_case"] as? Bool ?? true
        let normalizer = BertNormalizer(cleanText: true,
                                        handleChineseChars: config["tokenize_chinese_chars"] as? Bool ?? true,
                                        stripAccents: config["strip_accents"] as? Bool, lowercase: lowercase)
        let unk = tokenName(config["unk_token"]) ?? "[UNK]"
        let cls = tokenName(config["cls_token"]) ?? "[CLS]"
        let sep = tokenName(config["sep_token"]) ?? "[SEP]"
        let pad = tokenName(config["pad_token"]) ?? "[PAD]"
        let mask = tokenName(config["mask_token"]) ?? "[MASK]"
        var specials: [String: Int32] = [:]
        for name in [unk, cls, sep, pad, mask] { if let id = vocab[name] { specials[name] = id } }
        return try WordPieceTokenizer(vocabulary: vocab, normalizer: normalizer, unkToken: unk, clsToken: cls,
                                      sepToken: sep, specialTokens: specials, modelMaxLength: modelMaxLength(config))
    }

    // MARK: Helpers

    private static func readConfig(_ url: URL) throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        return try readObject(url)
    }

    private static func readObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.malformed(file: url.lastPathComponent, reason: "cannot read: \(error.localizedDescription)")
        }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError.malformed(file: url.lastPathComponent, reason: "invalid JSON: \(error.localizedDescription)")
        }
        guard let object = value as? [String: Any] else {
            throw TokenizerError.malformed(file: url.lastPathComponent, reason: "not a JSON object")
        }
        return object
    }

    /// Special token entries are a string or an AddedToken object `{"content": ...}`.
    private static func tokenName(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        return (value as? [String: Any])?["content"] as? String
    }

    /// transformers writes 1e30 (VERY_LARGE_INTEGER) when a model states no limit.
    private static func modelMaxLength(_ config: [String: Any]) -> Int? {
        guard let n = config["model_max_length"] as? NSNumber, n.doubleValue > 0, n.doubleValue < 1e9 else { return nil }
        return n.intValue
    }
}
