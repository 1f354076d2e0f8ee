/// A model repository on the Hugging Face Hub and the revision to serve: `org/name[@revision]` (revision: a branch,
/// a tag or a commit; default `main`), as `from_pretrained` and `huggingface-cli download` take it.
public struct HubRepository: Sendable, Hashable, CustomStringConvertible {
    public let id: String
    public let revision: String

    /// The name part of the id: the model's id in this server (`clip-vit-base-patch32`).
    public var name: String { String(id.split(separator: "/").last ?? Substring(id)) }
    /// The cache folder's name: `models--org--name`, as huggingface_hub writes it.
    public var cacheFolderName: String { "models--" + id.replacingOccurrences(of: "/", with: "--") }
    public var description: String { revision == "main" ? id : "\(id)@\(revision)" }

    /// Parses `org/name[@revision]`; the message says what is wrong.
    public init(parsing text: String) throws(HubError) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let id = parts[0]
        let revision = parts.count > 1 ? parts[1] : "main"
        let segments = id.split(separator: "/", omittingEmptySubsequences: false)
        func valid(_ segment: Substring) -> Bool {
            !segment.isEmpty && segment.count <= 96 && segment != "." && segment != ".." && !segment.hasPrefix("-")
                && segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
        guard segments.count == 2, segments.allSatisfy(valid) else {
            throw .invalidReference("'\(text)' is not a Hub model id: expected org/name[@revision], e.g. openai/clip-vit-base-patch32")
        }
        guard !revision.isEmpty, revision.count <= 256, !revision.contains(".."),
              revision.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\\" }) else {
            throw .invalidReference("'\(text)': the revision after '@' must be a branch, tag or commit")
        }
        self.id = id
        self.revision = revision
    }

    /// Whether `revision` is a full commit hash (then no ref needs resolving).
    public var revisionIsCommit: Bool { Self.isCommit(revision) }

    static func isCommit(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
