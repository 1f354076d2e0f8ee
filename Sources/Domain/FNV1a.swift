/// FNV-1a, 64 bits (Fowler–Noll–Vo; the reference parameters: offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3). Not cryptographic: it names things that change when their bytes do (space fingerprints,
/// weights identities, cache keys) and spreads keys over a hash table.
public struct FNV1a: Sendable, Equatable {
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public init<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        mix(bytes)
    }

    /// The hash of `bytes`.
    @inlinable
    public static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hasher = FNV1a()
        hasher.mix(bytes)
        return hasher.value
    }

    @inlinable
    public mutating func mix<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        var h = value
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        value = h
    }

    /// `value` as 16 lowercase hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
