import Tensor
/// What a collection is: its name, the space its vectors live in, and how they are compared and stored.
/// Fixed at creation; the index refuses vectors that do not fit it.
///
/// (Named `CollectionSpec`, not `Collection`, so that the module does not shadow Swift's `Collection`.)
public struct CollectionSpec: Sendable, Equatable {
    /// Letters, digits, '.', '_' and '-', starting with a letter or digit, at most `maxNameLength` bytes.
    public var name: String
    /// The model that embeds raw inputs for this collection; empty for a raw-vector collection.
    public var model: String
    /// Stored vector length: the model's, or fewer (Matryoshka truncation), or the raw vectors' length.
    public var dimensions: Int
    /// The model's full vector length (0 for raw vectors): vectors of this length are truncated to
    /// `dimensions` and renormalised.
    public var modelDimensions: Int
    public var metric: Metric
    public var storage: Storage
    /// Fingerprint of the embedding space (the model's `space`, or `raw/<dimensions>` for raw vectors).
    public var space: String
    public var createdUnixMs: Int64
    /// Keep each item's `Preview` (rosetta.v1.CreateCollectionRequest.keep_previews).
    public var keepPreviews: Bool

    public static let maxNameLength = 128

    public init(
        name: String, model: String, dimensions: Int, modelDimensions: Int, metric: Metric, storage: Storage,
        space: String, createdUnixMs: Int64, keepPreviews: Bool = false
    ) {
        self.name = name
        self.model = model
        self.dimensions = dimensions
        self.modelDimensions = modelDimensions
        self.metric = metric
        self.storage = storage
        self.space = space
        self.createdUnixMs = createdUnixMs
        self.keepPreviews = keepPreviews
    }

    /// The space of a raw-vector collection of `dimensions`.
    public static func rawSpace(dimensions: Int) -> String { "raw/\(dimensions)" }

    public var holdsRawVectors: Bool { model.isEmpty }

    /// Why `name` cannot name a collection, or nil when it can.
    public static func problem(withName name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.utf8.count > maxNameLength { return "the name is \(name.utf8.count) bytes, over \(maxNameLength)" }
        let allowed = { (c: UInt8) in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        guard name.utf8.allSatisfy(allowed) else {
            return "use only letters, digits, '.', '_' and '-'"
        }
        guard let first = name.utf8.first, allowed(first), first != 0x2E, first != 0x5F, first != 0x2D else {
            return "start with a letter or a digit"
        }
        return nil
    }

    /// `vector` as this collection stores it: checked for length and finite values, truncated to
    /// `dimensions` when it has the model's full length (Matryoshka), and scaled to unit length for cosine
    /// or after a truncation. `space`, when given, must be this collection's.
    public func prepare(_ vector: [Float], space: String? = nil) throws(IndexError) -> [Float] {
        if let space, !space.isEmpty, space != self.space {
            throw .spaceMismatch(collection: name, collectionSpace: self.space, otherSpace: space)
        }
        var values = vector
        var truncated = false
        if values.count != dimensions {
            guard modelDimensions > dimensions, values.count == modelDimensions else {
                throw .dimensionMismatch(collection: name, expected: acceptedLengths, actual: values.count)
            }
            values.removeLast(modelDimensions - dimensions)
            truncated = true
        }
        guard values.allSatisfy(\.isFinite) else { throw .invalidVector("the vector has a NaN or infinite value") }
        if metric == .cosine || truncated {
            guard values.contains(where: { $0 != 0 }) else {
                throw .invalidVector("the vector is all zeros, so it has no direction to compare")
            }
            values = Ops.l2Normalized(values)
            try Self.checkUnitLength(values)
        }
        return values
    }

    /// `Ops.l2Normalized` scales by the largest component first, so every finite vector that is not all zeros
    /// reaches unit length, however large or small its components; this check keeps the promise that an
    /// acknowledged vector is stored as the direction it was sent, never as something else.
    private static func checkUnitLength(_ values: [Float]) throws(IndexError) {
        let norm = Ops.l2Norm(values)
        guard values.allSatisfy(\.isFinite), abs(norm - 1) <= 1e-3 else {
            throw .invalidVector("the vector could not be scaled to unit length (its length came out as \(norm)), so it cannot be stored for cosine search")
        }
    }

    private var acceptedLengths: [Int] {
        modelDimensions > dimensions ? [dimensions, modelDimensions] : [dimensions]
    }
}

/// How scores are computed: cosine (vectors stored and queried at unit length) or the raw inner product.
public enum Metric: String, Sendable, Equatable, CaseIterable {
    case cosine, dot
}

/// How vectors are kept in memory.
public enum Storage: String, Sendable, Equatable, CaseIterable {
    /// 4 bytes per value; exact scores.
    case float32
    /// One signed byte per value and a float scale per vector (symmetric: v ~= code * scale).
    case int8
    /// Sign bits (d / 8 bytes) for a Hamming pre-filter, plus the int8 codes to re-rank the best candidates.
    case binary
}

/// A collection as listed: its spec and how many items it holds.
public struct CollectionInfo: Sendable, Equatable {
    public var spec: CollectionSpec
    public var count: Int
    /// Bytes of vector storage (codes and scales; ids and metadata not counted).
    public var vectorBytes: Int

    public init(spec: CollectionSpec, count: Int, vectorBytes: Int) {
        self.spec = spec
        self.count = count
        self.vectorBytes = vectorBytes
    }
}
