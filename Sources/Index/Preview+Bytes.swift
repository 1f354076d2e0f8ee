import Domain

extension Preview {
    /// The preview in the index's binary encoding (as a log record holds it, `ByteSink.write(_: Preview?)`), for
    /// a backend that stores it as one value (PostgresIndex's `preview` column).
    public func encoded() throws(IndexError) -> [UInt8] {
        var writer = ByteWriter()
        try writer.write(self)
        return writer.bytes
    }

    /// A preview from `encoded()`; `origin` names where the bytes came from in errors.
    public init(encoded bytes: [UInt8], origin: String) throws(IndexError) {
        var reader = ByteReader(bytes, origin: origin)
        guard let preview = try reader.readPreview(), reader.isAtEnd else {
            throw .corrupt(path: origin, reason: "a preview of \(bytes.count) bytes does not decode")
        }
        self = preview
    }
}
