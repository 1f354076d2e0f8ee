/// What happens to a text whose tokens (special tokens included) exceed the model's limit (rosetta.v1
/// `Truncate`).
public enum Truncation: Sendable, Hashable {
    /// Keep the beginning, drop the tail (HF `truncation_side="right"`; what sentence-transformers does).
    case end
    /// Keep the tail, drop the beginning (HF `truncation_side="left"`).
    case start
    /// Never truncate: an over-long text is refused.
    case none
}
