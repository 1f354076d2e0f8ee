import Domain
import Foundation  // memcmp

/// Vocabulary lookup keyed by exact UTF-8 bytes: an open-addressing hash table (linear probing, FNV-1a) whose
/// keys live in one byte array.
///
/// Why not `[String: Int32]`: WordPiece looks up every candidate piece of every word, and `String` would cost
/// a string per candidate plus SipHash, and its `==` uses canonical equivalence, which would merge
/// vocabulary entries the reference keeps apart ("é" precomposed vs "e" + U+0301). Here a lookup is a hash
/// and a `memcmp` over bytes the tokenizer already has.
struct PieceTable: Sendable {
    private var blob: [UInt8] = []
    /// Per entry: key start and length in `blob`, and the id.
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private var ids: [Int32] = []
    /// Entry index + 1 per slot; 0 is empty.
    private var slots: [Int32]
    private let mask: Int

    /// Later duplicates of a key replace earlier ones, as a dictionary assignment would.
    init<S: Sequence>(_ pairs: S) where S.Element == (key: [UInt8], id: Int32) {
        let pairs = Array(pairs)
        var capacity = 16
        while capacity < pairs.count * 2 { capacity <<= 1 }
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        for (key, id) in pairs { insert(key, id) }
    }

    var count: Int { ids.count }

    private mutating func insert(_ key: [UInt8], _ id: Int32) {
        var slot = key.withUnsafeBufferPointer { Self.hash($0) } & mask
        while slots[slot] != 0 {
            let e = Int(slots[slot] - 1)
            if blob[Int(starts[e])..<Int(starts[e] + lengths[e])].elementsEqual(key) {
                ids[e] = id
                return
            }
            slot = (slot + 1) & mask
        }
        starts.append(Int32(blob.count))
        lengths.append(Int32(key.count))
        ids.append(id)
        blob.append(contentsOf: key)
        slots[slot] = Int32(ids.count)
    }

    /// The id of exactly these bytes, if a key.
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        var slot = Self.hash(key) & mask
        return blob.withUnsafeBufferPointer { blob -> Int32? in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                let e = Int(entry - 1)
                if Int(lengths[e]) == key.count,
                   key.count == 0 || memcmp(blob.baseAddress! + Int(starts[e]), key.baseAddress!, key.count) == 0 {
                    return ids[e]
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let h = FNV1a.hash(bytes)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
