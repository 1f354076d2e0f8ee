import Foundation

/// Reading a tokenizer.json whose `model` is `Unigram` (see `UnigramTokenizer` for what is covered).
extension UnigramTokenizer {
    public static func load(tokenizerJSON url: URL) throws(TokenizerError) -> UnigramTokenizer {
        let file = url.path
        guard let data = try? Data(contentsOf: url) else { throw .missingFiles(directory: url.deletingLastPathComponent().path) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .malformed(file: file, reason: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw .malformed(file: file, reason: "missing object \"model\"") }
        let modelType = model["type"] as? String ?? "?"
        guard modelType == "Unigram" else { throw .unsupported(file: file, feature: "model.type \(modelType) (expected Unigram)") }
        guard let vocab = model["vocab"] as? [[Any]] else { throw .malformed(file: file, reason: "model.vocab is not a list of [piece, score]") }
        var pieces: [Piece] = []
        pieces.reserveCapacity(vocab.count)
        for (id, entry) in vocab.enumerated() {
            guard entry.count == 2, let text = entry[0] as? String, let score = (entry[1] as? NSNumber)?.doubleValue else {
                throw .malformed(file: file, reason: "model.vocab[\(id)] is not [piece, score]")
            }
            pieces.append(Piece(text: Array(text.utf8), score: score))
        }
        guard let unk = (model["unk_id"] as? NSNumber)?.intValue, pieces.indices.contains(unk) else {
            throw .unsupported(file: file, feature: "Unigram without an unk_id in the vocabulary")
        }
        let table = PieceTable(pieces.enumerated().map { (key: $0.element.text, id: Int32($0.offset)) })
        var byteIDs: [Int32]?
        if model["byte_fallback"] as? Bool == true {
            let ids = (0..<256).compactMap { b in Array(String(format: "<0x%02X>", b).utf8).withUnsafeBufferPointer { table.lookup($0) } }
            byteIDs = ids.count == 256 ? ids : nil
        }

        let normalizers = try (root["normalizer"] as? [String: Any]).map { json throws(TokenizerError) in
            try TextNormalizer.steps(json, file: file)
        } ?? []
        let metaspace = try readMetaspace(root["pre_tokenizer"], file: file)
        let added = try readAddedTokens(root["added_tokens"], file: file)
        let (prefix, suffix) = try readTemplate(root["post_processor"], file: file)
        var maxLength: Int?
        if let truncation = root["truncation"] as? [String: Any] {
            guard truncation["direction"] as? String ?? "Right" == "Right" else { throw .unsupported(file: file, feature: "truncation direction \(truncation["direction"] ?? "")") }
            maxLength = (truncation["max_length"] as? NSNumber)?.intValue
        }
        var padding: (length: Int, id: Int32)?
        if let pad = root["padding"] as? [String: Any] {
            guard pad["direction"] as? String ?? "Right" == "Right" else { throw .unsupported(file: file, feature: "padding direction \(pad["direction"] ?? "")") }
            if let strategy = pad["strategy"] as? [String: Any], let length = (strategy["Fixed"] as? NSNumber)?.intValue {
                padding = (length, Int32((pad["pad_id"] as? NSNumber)?.intValue ?? 0))
            }
        }
        return UnigramTokenizer(
            normalizers: normalizers, metaspace: metaspace, pieces: pieces, table: table,
            longestPiece: pieces.map(\.text.count).max() ?? 1,
            unkScore: (pieces.map(\.score).min() ?? 0) - 10, unkID: Int32(unk), byteIDs: byteIDs,
            addedTokens: added, prefix: prefix, suffix: suffix, maxLength: maxLength, padding: padding)
    }

    /// `Metaspace`, alone or as the only pre-tokenizer of a `Sequence`; none at all is allowed.
    static func readMetaspace(_ value: Any?, file: String) throws(TokenizerError) -> (String, Prepend, Bool)? {
        guard var json = value as? [String: Any] else { return nil }
        if json["type"] as? String == "Sequence", let list = json["pretokenizers"] as? [[String: Any]], list.count == 1 {
            json = list[0]
        }
        let type = json["type"] as? String ?? "?"
        guard type == "Metaspace" else { throw .unsupported(file: file, feature: "pre_tokenizer \(type)") }
        var scheme = Prepend(rawValue: json["prepend_scheme"] as? String ?? "always")
        if json["prepend_scheme"] == nil, let add = json["add_prefix_space"] as? Bool { scheme = add ? .always : .never }
        guard let scheme else { throw .unsupported(file: file, feature: "Metaspace prepend_scheme \(json["prepend_scheme"] ?? "")") }
        return (json["replacement"] as? String ?? "\u{2581}", scheme, json["split"] as? Bool ?? true)
    }

    /// Special added tokens, matched in the raw text, longest first.
    static func readAddedTokens(_ value: Any?, file: String) throws(TokenizerError) -> [AddedToken] {
        var tokens: [AddedToken] = []
        for item in value as? [[String: Any]] ?? [] {
            guard let content = item["content"] as? String, let id = (item["id"] as? NSNumber)?.int32Value else {
                throw .malformed(file: file, reason: "added_tokens entry without content and id")
            }
            guard item["normalized"] as? Bool != true, item["single_word"] as? Bool != true else {
                throw .unsupported(file: file, feature: "added token \(content) with normalized or single_word")
            }
            tokens.append(AddedToken(bytes: Array(content.utf8), id: id,
                                     lstrip: item["lstrip"] as? Bool ?? false, rstrip: item["rstrip"] as? Bool ?? false))
        }
        return tokens.sorted { $0.bytes.count > $1.bytes.count }
    }

    /// `TemplateProcessing`'s single-sequence template as the ids before and after `$A`.
    static func readTemplate(_ value: Any?, file: String) throws(TokenizerError) -> ([Int32], [Int32]) {
        guard let json = value as? [String: Any] else { return ([], []) }
        guard json["type"] as? String == "TemplateProcessing", let single = json["single"] as? [[String: Any]] else {
            throw .unsupported(file: file, feature: "post_processor \(json["type"] ?? "?")")
        }
        let specials = json["special_tokens"] as? [String: [String: Any]] ?? [:]
        var prefix: [Int32] = [], suffix: [Int32] = [], seenSequence = false
        for item in single {
            if item["Sequence"] != nil { seenSequence = true; continue }
            guard let special = item["SpecialToken"] as? [String: Any], let name = special["id"] as? String,
                  let ids = specials[name]?["ids"] as? [NSNumber] else {
                throw .malformed(file: file, reason: "post_processor template item \(item) names no known special token")
            }
            if seenSequence { suffix += ids.map(\.int32Value) } else { prefix += ids.map(\.int32Value) }
        }
        return (prefix, suffix)
    }
}
