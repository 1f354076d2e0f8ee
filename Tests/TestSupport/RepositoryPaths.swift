import Foundation

/// Where the tests find the repository's files: found from this file's path at compile time, so the tests run from
/// any working directory.
public enum RepositoryPaths {
    /// The repository root (Tests/TestSupport/<this file> → ../../..).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Tests/Fixtures: the small committed fixtures the reference scripts in models/ write.
    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    /// models/: the weights `models/fetch` writes (never committed; absent until fetched); ROSETTA_MODELS_DIR,
    /// when set, names another models folder (as the server's --models-dir).
    public static let models = ProcessInfo.processInfo.environment["ROSETTA_MODELS_DIR"].map { URL(fileURLWithPath: $0) }
        ?? root.appendingPathComponent("models")
}
