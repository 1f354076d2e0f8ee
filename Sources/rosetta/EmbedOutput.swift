import Foundation
import RosettaAPI

/// What `rosetta embed` prints: a short line per input, or the `--json` document.
struct EmbedOutput {
    let response: Rosetta_V1_EmbedResponse
    /// The input as given on the command line (text or path), in request order.
    let labels: [String]
    let encoding: EncodingOption

    /// `--json`: {"model", "space", "encoding", "results": [...], "usage": {...}}.
    struct Document: Encodable {
        let model: String
        let space: String
        let encoding: String
        let results: [Result]
        let usage: JSONUsage
    }

    /// One input's outcome. Exactly one of `vector` (float32), `int8` + `scale`, `binary` (hex of the packed sign
    /// bits, first dimension in the high bit) is present when `ok`; `error` when not.
    struct Result: Encodable {
        let index: UInt32
        let input: String
        let modality: String
        let ok: Bool
        var dimensions: UInt32?
        var tokens: UInt32?
        var truncated: Bool?
        var vector: [Float]?
        var int8: [Int8]?
        var scale: Float?
        var binary: String?
        var transcript: String?
        var noSpeechProbability: Float?
        var error: JSONError?
    }

    var document: Document {
        Document(model: response.model, space: response.space, encoding: encoding.rawValue,
                 results: response.results.map(result), usage: JSONUsage(response.usage))
    }

    private func result(_ r: Rosetta_V1_EmbedResult) -> Result {
        var result = Result(index: r.index, input: label(r), modality: r.modality.name, ok: r.status.code == 0)
        guard result.ok else {
            result.error = JSONError(r.status)
            return result
        }
        let embedding = r.embedding
        result.dimensions = embedding.dimensions
        result.tokens = r.tokens
        result.truncated = r.truncated
        switch encoding {
        case .float32: result.vector = embedding.float32
        case .int8:
            result.int8 = embedding.int8.map { Int8(bitPattern: $0) }
            result.scale = embedding.scale
        case .binary: result.binary = embedding.binary.hex
        }
        if r.hasNoSpeechProbability {
            result.transcript = r.transcript
            result.noSpeechProbability = r.noSpeechProbability
        }
        return result
    }

    private func label(_ result: Rosetta_V1_EmbedResult) -> String {
        labels.indices.contains(Int(result.index)) ? labels[Int(result.index)] : "#\(result.index)"
    }

    func printVectors() {
        for r in response.results {
            guard r.status.code == 0 else {
                print("\(label(r)): error: \(r.status.message)")
                continue
            }
            let embedding = r.embedding
            let values: String = switch encoding {
            case .int8: "int8 x \(embedding.scale): " + embedding.int8.prefix(8).map { "\(Int8(bitPattern: $0))" }.joined(separator: " ")
            case .binary: "bits: " + embedding.binary.prefix(8).hex
            case .float32: embedding.float32.prefix(8).map { String(format: "%+.4f", $0) }.joined(separator: " ")
            }
            print("\(label(r)) [\(r.modality.name), \(embedding.dimensions)-d, \(r.tokens) tokens]: \(values) ...")
            if r.hasNoSpeechProbability {
                print("  transcript: \"\(r.transcript)\" (no-speech probability \(String(format: "%.2f", r.noSpeechProbability)))")
            }
        }
    }

    /// Each non-text input against the first `textCount` (text) inputs, best first.
    func printRanking(textCount: Int) {
        let vectors = Dictionary(uniqueKeysWithValues: response.results.filter { $0.status.code == 0 }
            .map { (Int($0.index), $0.embedding.float32) })
        for query in textCount..<labels.count {
            guard let queryVector = vectors[query] else { continue }
            let scored = (0..<textCount).compactMap { t in
                vectors[t].map { (t, zip(queryVector, $0).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
            }.sorted { $0.1 > $1.1 }
            print("\(labels[query]) ->")
            for (t, score) in scored.prefix(3) { print(String(format: "  %.3f  ", score) + labels[t]) }
        }
    }

    func printUsage() {
        print("model \(response.model), space \(response.space), \(response.usage.tokens) tokens, "
            + "\(Double(response.usage.computeTimeNs) / 1e6) ms compute")
    }
}

extension Collection<UInt8> {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
