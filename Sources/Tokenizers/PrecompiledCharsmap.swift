import Foundation

/// SentencePiece's compiled normalisation rules (`normalizer_spec.precompiled_charsmap`, e.g. nmt_nfkc), as the
/// `Precompiled` normalizer of Hugging Face tokenizers applies them (tokenizers/src/normalizers/precompiled.rs over
/// the spm_precompiled crate).
///
/// - Blob: u32 LE byte size of the trie, the trie (Darts double array of u32 LE units), then the replacement
///   strings, each ending in NUL; a key's trie value is the byte offset of its replacement.
/// - Rule (tokenizers' quirk, kept as is): per extended grapheme cluster shorter than 6 UTF-8 bytes, the trie's
///   first (shortest) prefix match replaces the whole cluster; otherwise each scalar of the cluster is looked up
///   alone and replaced when it matches.
struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(blob: [UInt8]) throws(TokenizerError) {
        func fail(_ reason: String) -> TokenizerError { .malformed(file: "tokenizer.json", reason: "precompiled_charsmap: \(reason)") }
        guard blob.count >= 4 else { throw fail("shorter than its 4-byte header") }
        let trieBytes = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard trieBytes % 4 == 0, trieBytes >= 4, 4 + trieBytes <= blob.count else {
            throw fail("trie of \(trieBytes) bytes does not fit in \(blob.count)")
        }
        units = stride(from: 4, to: 4 + trieBytes, by: 4).map { i in
            UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24
        }
        replacements = Array(blob[(4 + trieBytes)...])
    }

    /// The replacement of the first key that is a prefix of `key` (Darts `commonPrefixSearch`, first result).
    private func firstPrefixMatch<C: Collection>(_ key: C) -> [UInt8]? where C.Element == UInt8 {
        var node = 0
        var unit = Int(units[0])
        node ^= Self.offset(unit)
        for byte in key {
            guard byte != 0 else { return nil }
            node ^= Int(byte)
            guard node >= 0, node < units.count else { return nil }
            unit = Int(units[node])
            guard unit & ((1 << 31) | 0xFF) == Int(byte) else { return nil }
            node ^= Self.offset(unit)
            if (unit >> 8) & 1 == 1, node < units.count {
                let start = Int(units[node]) & ((1 << 31) - 1)
                guard start <= replacements.count else { return nil }
                let end = replacements[start...].firstIndex(of: 0) ?? replacements.count
                return Array(replacements[start..<end])
            }
        }
        return nil
    }

    private static func offset(_ unit: Int) -> Int { (unit >> 10) << ((unit & (1 << 9)) >> 6) }

    func normalize(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for cluster in text {
            let bytes = Array(cluster.utf8)
            if bytes.count < 6, let replacement = firstPrefixMatch(bytes) {
                out += replacement
                continue
            }
            for scalar in cluster.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                out += firstPrefixMatch(scalarBytes) ?? scalarBytes
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
