import Encoders

/// A Hugging Face checkpoint folder served beside the manifest's models (`SpaceLoader.checkpoints`), and which of
/// a repository's files its architecture reads (`CheckpointFolder.files(config:available:)`).
public typealias CheckpointFolder = ModelRegistry.Checkpoint
