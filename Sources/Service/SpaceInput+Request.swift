import RosettaAPI
import Spaces

extension SpaceInput {
    /// A request's input (an Embed input, an Upsert item's input, a Search query) as a space takes it, or why it
    /// cannot be embedded at all. `position` names it in messages.
    ///
    /// Text must have visible content: a text of only whitespace, controls and invisible format characters
    /// (zero-width spaces and joiners, bidirectional marks, byte-order marks: Unicode's White_Space,
    /// Default_Ignorable_Code_Point and general categories Cc, Cf) is refused like an empty one, since every such
    /// text would get the same vector.
    init(_ input: Rosetta_V1_Input, position: Int, limits: ServiceLimits) throws(ServiceError) {
        switch input.kind {
        case .text(let text):
            guard text.unicodeScalars.contains(where: Self.isVisible) else {
                throw .invalidArgument("input \(position)'s text is empty or only whitespace and invisible characters")
            }
            let length = text.unicodeScalars.count
            guard length <= limits.maxTextCharacters else {
                throw .limitExceeded(limit: "text length in characters", value: length, maximum: limits.maxTextCharacters)
            }
            self = .text(text)
        case .image(let media):
            guard !media.data.isEmpty else { throw .invalidArgument("image \(position) has no data") }
            self = .image(MediaBytes(data: media.data, mimeType: media.mimeType))
        case .audio(let media):
            guard !media.data.isEmpty else { throw .invalidArgument("audio \(position) has no data") }
            self = .audio(MediaBytes(data: media.data, mimeType: media.mimeType))
        case nil:
            throw .invalidArgument("input \(position) is empty: set one of text, image or audio")
        }
    }

    private static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate:
            return false
        default:
            return !properties.isWhitespace && !properties.isDefaultIgnorableCodePoint
        }
    }
}
