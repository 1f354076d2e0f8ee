/// What kind of thing an input, a vector or an indexed item came from: the one word for it in every layer
/// (rosetta.v1 `Modality`, the manifest's modalities, the index's items). The raw values are those of the
/// protobuf enum and of the index's write-ahead log and snapshots: they never change.
public enum Modality: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case text = 1, image = 2, audio = 3
    /// A vector the client supplied.
    case vector = 4

    /// The modalities an encoder embeds (every case but `vector`).
    public static let embeddable: [Modality] = [.text, .image, .audio]

    public var description: String {
        switch self {
        case .text: "text"
        case .image: "image"
        case .audio: "audio"
        case .vector: "vector"
        }
    }
}
