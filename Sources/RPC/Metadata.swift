/// Call metadata (HTTP/2 headers): ordered key/value pairs, keys lower-case, a key may repeat.
/// Values of binary keys (ending in "-bin") are carried base64-encoded.
public struct Metadata: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public typealias Element = (key: String, value: String)
    public private(set) var entries: [Element]

    public init(_ entries: [Element] = []) {
        self.entries = entries.map { (key: $0.key.lowercased(), value: $0.value) }
    }

    public init(arrayLiteral elements: Element...) { self.init(elements) }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    /// The first value for `key` (case-insensitive), or nil.
    public subscript(key: String) -> String? {
        let key = key.lowercased()
        return entries.first { $0.key == key }?.value
    }

    /// Every value for `key`, in order.
    public func values(for key: String) -> [String] {
        let key = key.lowercased()
        return entries.filter { $0.key == key }.map(\.value)
    }

    public mutating func append(_ value: String, for key: String) {
        entries.append((key: key.lowercased(), value: value))
    }

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> Element { entries[position] }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }
}
