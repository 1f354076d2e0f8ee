import Domain

/// How an image or audio item becomes one vector (docs/ARCHITECTURE.md, "Instruction pooling"), from the request's pooling and instruction.
/// Text does not come here: its instruction is a prefix template, whatever the pooling.
enum TokenPooling: Equatable {
    /// The encoder's own vector: DEFAULT pooling without an instruction, and CLS.
    case native
    /// The plain mean of the item's token vectors.
    case mean
    /// Attention over the item's token vectors with the instruction's text embedding as the query: asked for
    /// with INSTRUCTION pooling, and what DEFAULT pooling does when an instruction is given.
    case instruction(String)

    init(_ options: EmbeddingOptions) {
        switch (options.pooling, options.instruction) {
        case (.mean, _): self = .mean
        case (.instruction, .text(let instruction)), (nil, .text(let instruction)): self = .instruction(instruction)
        default: self = .native
        }
    }
}

extension TextEncoding {
    /// The instruction as the query of instruction pooling: its plain text embedding, no prompt.
    func query(_ instruction: String) throws -> [Float] {
        try embed(texts: [instruction], options: EmbeddingOptions())[0].get().values
    }
}
