/// How an item's token vectors become one vector (rosetta.v1 `Pooling`, the manifest's `pooling`). A request
/// that names none gets its model's own (`Optional<Pooling>.none`).
///
/// - Text: the token vectors are the encoder's hidden states of one sequence; `mean` is sentence-transformers'
///   `pooling_mode_mean_tokens`, `cls` its `pooling_mode_cls_token`. An instruction is a prefix template, so
///   `instruction` pools text with the model's own pooling.
/// - Images and audio: the token vectors are the item's token set in the joint space (concept vectors, patch
///   tokens, transcript sentences); `cls` is the encoder's own vector, `mean` their mean, `instruction`
///   attention over them with the instruction as the query (docs/ARCHITECTURE.md, "Instruction pooling").
public enum Pooling: String, Sendable, Hashable, CaseIterable {
    case mean
    case cls
    case instruction
}
