import Domain
import Foundation
import RPC
import RosettaAPI

/// An EmbedResponse as OpenAI's embeddings response: `{"object": "list", "data": [{"object": "embedding",
/// "index": i, "embedding": ...}], "model": ..., "usage": {"prompt_tokens": n, "total_tokens": n}}`, plus
/// Rosetta's `space` (the vectors' space fingerprint), `scale` per int8 vector and `transcript` per audio input
/// brought into a text space.
///
/// Floats are written in their shortest round-trip form (Swift's `description`), so that a client parsing them
/// back to float32 gets the server's values bit for bit; base64 carries the float32 bytes little-endian.
enum EmbeddingsResponse {
    /// The whole response, or the first failed input's error: OpenAI's API has no per-input status.
    static func json(_ response: Rosetta_V1_EmbedResponse, format: EmbeddingsRequest.Format) throws(ItemFailure) -> String {
        if let failed = response.results.first(where: { $0.status.code != 0 }) {
            throw ItemFailure(index: Int(failed.index), status: failed.status)
        }
        var out = "{\"object\":\"list\",\"data\":["
        out.reserveCapacity(64 + response.results.count * (format == .float ? 4_500 : 2_100))
        for (i, result) in response.results.enumerated() {
            if i > 0 { out += "," }
            out += "{\"object\":\"embedding\",\"index\":\(result.index),\"embedding\":"
            let embedding = result.embedding
            switch format {
            case .float:
                out += "["
                for (j, value) in embedding.float32.enumerated() {
                    if j > 0 { out += "," }
                    out += value.description
                }
                out += "]"
            case .base64:
                out += "\"" + littleEndianBytes(embedding.float32).base64EncodedString() + "\""
            case .int8:
                out += "[" + embedding.int8.map { String(Int8(bitPattern: $0)) }.joined(separator: ",") + "]"
                out += ",\"scale\":\(embedding.scale.description)"
            case .binary:
                out += "[" + embedding.binary.map { String($0) }.joined(separator: ",") + "]"
            }
            if !result.transcript.isEmpty { out += ",\"transcript\":" + JSONString.quoted(result.transcript) }
            out += "}"
        }
        let tokens = response.usage.tokens
        out += "],\"model\":" + JSONString.quoted(response.model)
        out += ",\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}"
        out += ",\"space\":" + JSONString.quoted(response.space) + "}"
        return out
    }

    static func littleEndianBytes(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }
}

/// One input of an embeddings request failed (its status from the same mapping as Embed's per-input
/// statuses); the HTTP response is that input's error.
struct ItemFailure: Error, Sendable {
    let index: Int
    let status: Rosetta_V1_ItemStatus

    var rpcStatus: RPCStatus {
        RPCStatus(RPCStatus.Code(rawValue: status.code) ?? .unknown, "input[\(index)]: \(status.message)")
    }
}
