/// What a person needs to recognise an item at a glance: made from the raw input when it is embedded (Spaces),
/// stored beside the item (Index), returned by Get and Search when asked (rosetta.v1.Preview).
///
/// Contract: `byteCount <= maxBytes`; the thumbnail is a JPEG at most `maxThumbnailSide` pixels on its long
/// side; `text` holds at most `maxTextCharacters` Unicode scalars, ending in "…" when it was cut.
public struct Preview: Sendable, Equatable, Hashable {
    /// Images: a baseline JPEG of the image (empty for other inputs).
    public var thumbnailJPEG: [UInt8]
    public var thumbnailWidth: Int
    public var thumbnailHeight: Int
    /// Texts: their start; audio: the start of its transcript (empty when there is none).
    public var text: String
    /// Audio: its length in seconds (0 for other inputs).
    public var durationSeconds: Float

    /// The byte cap of one preview (thumbnail plus text), as the proto documents it.
    public static let maxBytes = 48 << 10
    public static let maxThumbnailSide = 256
    public static let maxTextCharacters = 300

    public init(thumbnailJPEG: [UInt8] = [], thumbnailWidth: Int = 0, thumbnailHeight: Int = 0, text: String = "",
                durationSeconds: Float = 0) {
        self.thumbnailJPEG = thumbnailJPEG
        self.thumbnailWidth = thumbnailWidth
        self.thumbnailHeight = thumbnailHeight
        self.text = text
        self.durationSeconds = durationSeconds
    }

    /// A preview of a text (or transcript): its first `maxTextCharacters` characters (Unicode scalars, so at most
    /// 4 bytes each), "…" appended when cut.
    public init(text: String, durationSeconds: Float = 0) {
        let scalars = text.unicodeScalars
        var kept = text
        if scalars.count > Self.maxTextCharacters {
            kept = String(String.UnicodeScalarView(scalars.prefix(Self.maxTextCharacters - 1))) + "…"
        }
        self.init(thumbnailJPEG: [], text: kept, durationSeconds: durationSeconds)
    }

    /// Thumbnail and text bytes (what `maxBytes` caps; the two sizes and the duration are not counted).
    public var byteCount: Int { thumbnailJPEG.count + text.utf8.count }
}
