import Foundation

/// Reading a SentencePiece model file (spiece.model, the `ModelProto` protobuf of sentencepiece_model.proto) into the
/// tokenizer transformers' `SpmConverter` makes of it (convert_slow_tokenizer.py), so that a checkpoint that ships
/// only spiece.model (google/siglip-*) tokenises as its converted tokenizer.json would:
/// the pieces and scores (Unigram, `trainer_spec.unk_id`, no byte fallback — SpmConverter's default), normalizer
/// `Precompiled(normalizer_spec.precompiled_charsmap)` + `Strip(right)` + `Replace(" {2,}", "▁")`, pre-tokenizer
/// `Metaspace("▁", prepend always, split)`, and the CONTROL and USER_DEFINED pieces as added tokens. No template,
/// truncation or padding: the model sets those (`UnigramTokenizer.configured`).
extension UnigramTokenizer {
    public static func load(sentencePieceModel url: URL) throws(TokenizerError) -> UnigramTokenizer {
        let file = url.path
        guard let data = try? Data(contentsOf: url) else { throw .missingFiles(directory: url.deletingLastPathComponent().path) }
        var pieces: [Piece] = [], added: [AddedToken] = []
        var unk = 0, modelType = 1
        var charsmap: [UInt8] = []
        do {
            for field in try ProtobufReader(Array(data)).fields() {
                switch field.number {
                case 1:  // pieces: {1 piece, 2 score, 3 type}
                    var text: [UInt8] = [], score: Float = 0, type = 1
                    for f in try ProtobufReader(field.bytes).fields() {
                        switch f.number {
                        case 1: text = f.bytes
                        case 2: score = Float(bitPattern: UInt32(truncatingIfNeeded: f.varint))
                        case 3: type = Int(clamping: f.varint)
                        default: break
                        }
                    }
                    if type == 3 || type == 4 { added.append(AddedToken(bytes: text, id: Int32(pieces.count), lstrip: false, rstrip: false)) }
                    pieces.append(Piece(text: text, score: Double(score)))
                case 2:  // trainer_spec: 3 model_type, 40 unk_id
                    for f in try ProtobufReader(field.bytes).fields() {
                        if f.number == 3 { modelType = Int(clamping: f.varint) }
                        if f.number == 40 { unk = Int(Int32(truncatingIfNeeded: f.varint)) }
                    }
                case 3:  // normalizer_spec: 2 precompiled_charsmap
                    for f in try ProtobufReader(field.bytes).fields() where f.number == 2 { charsmap = f.bytes }
                default: break
                }
            }
        } catch {
            throw .malformed(file: file, reason: "not a SentencePiece model (\(error))")
        }
        guard modelType == 1 else { throw .unsupported(file: file, feature: "SentencePiece model_type \(modelType) (only Unigram, 1)") }
        guard pieces.indices.contains(unk) else { throw .malformed(file: file, reason: "unk_id \(unk) outside \(pieces.count) pieces") }
        var normalizers: [TextNormalizer] = charsmap.isEmpty ? [] : [.precompiled(try PrecompiledCharsmap(blob: charsmap))]
        normalizers.append(.strip(left: false, right: true))
        do {
            normalizers.append(.replace(.regex(try Regex(" {2,}").matchingSemantics(.unicodeScalar)), content: "\u{2581}"))
        } catch {
            throw .unsupported(file: file, feature: "regex (\(error))")
        }
        return UnigramTokenizer(
            normalizers: normalizers, metaspace: ("\u{2581}", .always, true), pieces: pieces,
            table: PieceTable(pieces.enumerated().map { (key: $0.element.text, id: Int32($0.offset)) }),
            longestPiece: pieces.map(\.text.count).max() ?? 1, unkScore: (pieces.map(\.score).min() ?? 0) - 10,
            unkID: Int32(unk), byteIDs: nil, addedTokens: added.sorted { $0.bytes.count > $1.bytes.count },
            prefix: [], suffix: [], maxLength: nil, padding: nil)
    }

    /// The same tokenizer with `suffix` appended to every text, truncated to `maxLength` ids (the suffix kept) and
    /// padded to it with `padID`: SigLIP's "$A </s>" padded to 64 with </s>.
    public func configured(suffix: [Int32], maxLength: Int, padID: Int32) -> UnigramTokenizer {
        UnigramTokenizer(normalizers: normalizers, metaspace: metaspace, pieces: pieces, table: table, longestPiece: longestPiece,
                         unkScore: unkScore, unkID: unkID, byteIDs: byteIDs, addedTokens: addedTokens, prefix: [],
                         suffix: suffix, maxLength: maxLength, padding: (maxLength, padID))
    }

    /// The id of a piece of the vocabulary.
    public func id(of piece: String) -> Int32? { Array(piece.utf8).withUnsafeBufferPointer { table.lookup($0) } }
}

/// Protocol-buffer wire format, as far as a SentencePiece model needs: varints, 32/64-bit and length-delimited fields.
struct ProtobufReader {
    struct Field { var number: Int; var varint: UInt64 = 0; var bytes: [UInt8] = [] }
    struct Malformed: Error, CustomStringConvertible { let description: String }

    let data: [UInt8]
    init(_ data: [UInt8]) { self.data = data }

    func fields() throws -> [Field] {
        var fields: [Field] = []
        var i = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < data.count, shift < 64 else { throw Malformed(description: "truncated varint at byte \(i)") }
                let b = data[i]
                i += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
        }
        func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, i + n <= data.count else { throw Malformed(description: "field of \(n) bytes past the end at byte \(i)") }
            defer { i += n }
            return Array(data[i..<(i + n)])
        }
        while i < data.count {
            let key = try varint()
            var field = Field(number: Int(key >> 3))
            switch key & 7 {
            case 0: field.varint = try varint()
            case 1: field.varint = try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
            case 2: field.bytes = try take(Int(clamping: try varint()))
            case 5: field.varint = try take(4).reversed().reduce(0) { $0 << 8 | UInt64($1) }
            default: throw Malformed(description: "wire type \(key & 7) at byte \(i)")
            }
            fields.append(field)
        }
        return fields
    }
}
