import Domain
import Foundation
import Tensor

/// The one way in for every architecture (candle's `load(vb, cfg)` shape): a typed manifest entry and its
/// folder become a loaded model, or a `SkipReason` that names the file, field or tensor at fault. Load paths
/// never trap, exit or swallow an error. Each architecture's loaded type conforms in its own file and is
/// registered once, in `ModelManifest.Architecture.loader`.
public protocol LoadableModel: Sendable {
    /// What the architecture embeds or transcribes: the manifest allows one default model per modality.
    static var modalities: [Modality] { get }

    /// Loads `entry` from `folder` (models/<id>/). The files the entry lists are known to exist.
    static func load(_ entry: ModelManifest.Entry, folder: URL, options: LoadOptions) throws(ModelRegistry.SkipReason) -> Self

    var id: String { get }
    var isDefault: Bool { get }
    /// Names the model: "<id>:<16 hex>" over its id, weights identity and version (`ModelRegistry.fingerprint`).
    var fingerprint: String { get }
    /// One line for the server log: what was loaded and its shape.
    var summary: String { get }

    /// How a Hugging Face checkpoint of this architecture looks; nil where none is served from the Hub.
    static var checkpointLayout: CheckpointLayout? { get }
}

extension LoadableModel {
    public static var checkpointLayout: CheckpointLayout? { nil }
}

/// How every model of a registry is loaded.
public struct LoadOptions: Sendable, Equatable {
    /// Threads of each model's own worker pool (the BLAS thread count is set by the caller).
    public var threads: Int
    /// What dense layers are packed and multiplied in (Whisper's float16 CTranslate2 weights excepted).
    public var precision: Precision

    public init(threads: Int = 1, precision: Precision = .float32) {
        self.threads = threads
        self.precision = precision
    }
}

extension ModelRegistry {
    /// "<id>:<FNV-1a 64 hex>" over a versioned domain string, the id, weights identity and version.
    public static func fingerprint(id: String, weights: String, version: String) -> String {
        "\(id):" + FNV1a("rosetta-space-v1\0\(id)\0\(weights)\0\(version)".utf8).hex
    }

    /// The fingerprint of the model whose weights are `file` (relative to `folder`): over the manifest's
    /// sha256 of that file, else (a hand-copied folder) over the identity read from the file (`weightsIdentity`);
    /// and over `source.version` ("local" without a source).
    public static func fingerprint(_ entry: ModelManifest.Entry, weights file: String, folder: URL) throws(SkipReason) -> String {
        var identity = entry.sha256(of: file) ?? ""
        if identity.isEmpty { identity = try weightsIdentity(folder.appendingPathComponent(file)) }
        return fingerprint(id: entry.id, weights: identity, version: entry.source?.version ?? "local")
    }

    /// Cheap identity of a weights file that changes when the checkpoint does, without reading the weights:
    /// its size plus the FNV-1a 64 of its first 64 KiB, or of its whole header for safetensors (tensor names,
    /// shapes, offsets: "size:<n>:header:<hex>").
    public static func weightsIdentity(_ url: URL) throws(SkipReason) -> String {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            guard url.pathExtension == "safetensors" else {
                let head = try handle.read(upToCount: 64 << 10) ?? Data()
                return "size:\(size):head:\(String(FNV1a.hash(head), radix: 16))"
            }
            let lengthBytes = try handle.read(upToCount: 8) ?? Data()
            guard lengthBytes.count == 8 else { throw SkipReason.loadFailed("\(url.path): shorter than a safetensors header") }
            let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= 100_000_000, length + 8 <= size else {
                throw SkipReason.loadFailed("\(url.path): safetensors header length \(length) is invalid")
            }
            let header = try handle.read(upToCount: Int(length)) ?? Data()
            return "size:\(size):header:\(String(FNV1a.hash(header), radix: 16))"
        } catch let error as SkipReason {
            throw error
        } catch {
            throw .loadFailed("\(url.path): \(error.localizedDescription)")
        }
    }

    /// Throws `folderMissing` for an absent model folder, else `fileMissing` for the first of `names` (relative
    /// to the folder) that is absent.
    public static func requireFiles(_ names: [String], in folder: URL) throws(SkipReason) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .folderMissing(path: folder.path)
        }
        for name in names where !fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
            throw .fileMissing(path: folder.appendingPathComponent(name).path)
        }
    }

    /// Runs a load step whose errors are not yet `SkipReason`s (encoder, tokenizer, tensor errors) and reports
    /// them as `loadFailed`, keeping their message.
    static func loading<T>(_ step: () throws -> T) throws(SkipReason) -> T {
        do { return try step() } catch let reason as SkipReason { throw reason } catch let error as EncoderError {
            throw .loadFailed(error.description)
        } catch { throw .loadFailed("\(error)") }
    }
}
