import FuzzSupport
import Foundation
import Domain
import Tokenizers

/// The BERT normaliser (cleaning, accents, CJK spacing, lowercasing) and WordPiece over all-MiniLM-L6-v2's
/// uncased vocabulary and a cased one, with every truncation mode. The first byte picks the tokenizer,
/// truncation and token limit; the rest is the text. Encoding never yields more ids than the limit, and
/// every id names a token.
let tokenizers: [WordPieceTokenizer] = ["all-minilm-l6-v2", "tokenizer/tiny-cased"].map { folder in
    do {
        return try WordPieceTokenizer.load(directory: FuzzSupport.fixture(folder))
    } catch {
        fatalError("fuzz harness: cannot load the \(folder) tokenizer: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWordPiece(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let tokenizer = tokenizers[Int(control & 1)]
    let truncation: Truncation = [.end, .start, .none][Int(control >> 1 & 3) % 3]
    let maxTokens = Int(control >> 3) + 2
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    _ = tokenizer.tokenize(text)
    guard let encoded = try? tokenizer.encode(text, maxTokens: maxTokens, truncation: truncation) else { return 0 }
    precondition(encoded.ids.count <= maxTokens, "\(encoded.ids.count) ids over the limit of \(maxTokens)")
    precondition(encoded.ids.allSatisfy { tokenizer.token(for: $0) != nil }, "an id outside the vocabulary")
    return 0
}
