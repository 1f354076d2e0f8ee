import Foundation
import Hub
import Spaces

/// `--model org/name[@revision]`: each repository's checkpoint, from the Hugging Face cache or downloaded into it
/// first (only the files its architecture reads; progress on stderr), served beside the manifest's models under
/// the repository's name. The environment (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HOME, HF_HUB_CACHE) is read
/// as huggingface_hub reads it.
struct HubModels: Sendable {
    let repositories: [HubRepository]

    /// Parses the flag's values; the message names the bad one, or two that would share an id.
    init(_ references: [String]) throws(HubError) {
        var repositories: [HubRepository] = []
        for reference in references {
            let repository = try HubRepository(parsing: reference)
            if let other = repositories.first(where: { $0.name == repository.name }) {
                throw .invalidReference("--model \(other) and --model \(repository) would both be served as '\(repository.name)': give one")
            }
            repositories.append(repository)
        }
        self.repositories = repositories
    }

    func fetch() async throws(HubError) -> [CheckpointFolder] {
        guard !repositories.isEmpty else { return [] }
        let client = HubClient(settings: try HubSettings.fromEnvironment()) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        do {
            var folders: [CheckpointFolder] = []
            for repository in repositories {
                folders.append(try await fetch(repository, with: client))
            }
            await client.shutdown()
            return folders
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func fetch(_ repository: HubRepository, with client: HubClient) async throws(HubError) -> CheckpointFolder {
        let revision = try await client.revision(repository)
        guard revision.files.contains("config.json") else {
            throw .unsupported(repository: repository.description, detail: "has no config.json: not a transformers checkpoint")
        }
        let config = try await client.download("config.json", of: revision)
        let files: [String]
        do {
            files = try CheckpointFolder.files(config: (try? Data(contentsOf: config)) ?? Data(), available: revision.files)
        } catch {
            throw .unsupported(repository: repository.description, detail: "\(error)")
        }
        for file in files {
            try await client.download(file, of: revision)
        }
        return CheckpointFolder(id: repository.name, folder: revision.folder, weightsSHA256: Self.sha256(revision.folder, "model.safetensors"))
    }

    /// The sha256 a cached LFS file is named by (its blob's name), when it is one.
    static func sha256(_ folder: URL, _ file: String) -> String? {
        let blob = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent(file).path))
            .map { URL(fileURLWithPath: $0).lastPathComponent }
        guard let blob, blob.utf8.count == 64, blob.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return blob
    }
}
