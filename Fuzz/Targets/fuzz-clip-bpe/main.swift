import FuzzSupport
import Foundation
import Tokenizers

/// CLIP's text cleaning (NFC, HTML unescaping twice, whitespace, lowercasing), its pre-token pattern and
/// byte-level BPE over the real 49,408-token merges. Encoding never yields more ids than the context
/// length, starts with <|startoftext|>, ends with <|endoftext|>, and every id is in the vocabulary.
let tokenizer: CLIPTokenizer = {
    do {
        return try CLIPTokenizer.load(directory: FuzzSupport.fixture("clip"))
    } catch {
        fatalError("fuzz harness: cannot load the CLIP tokenizer: \(error)")
    }
}()
let vocabularySize = Int32(tokenizer.vocabulary.count)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCLIPBPE(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (ids, _) = tokenizer.encode(text)
    precondition(ids.count <= tokenizer.contextLength, "\(ids.count) ids over the context length")
    precondition(ids.first == tokenizer.startOfText && ids.last == tokenizer.endOfText, "missing start or end token")
    precondition(ids.allSatisfy { (0..<vocabularySize).contains($0) }, "an id outside the vocabulary")
    return 0
}

