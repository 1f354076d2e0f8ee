import Foundation
import Synchronization
@testable import Service
import Spaces

/// An in-process model for the batch scheduler's tests: records every `embed` call (its inputs and options),
/// can be slowed (`delay` per call) or held (`hold()` blocks calls until `release()`), and returns a vector
/// that spells out its text (its UTF-8 bytes), so a test can tell exactly which input a vector came from.
/// Texts starting with "FAIL" fail alone.
final class RecordingModel: EmbeddingSpace {
    struct Call: Sendable {
        var texts: [String]
        var options: EmbeddingOptions
        var thread = pthread_self()
    }
    struct Failure: Error {}

    let description: SpaceDescription
    private let delay: Duration
    private let calls = Mutex<[Call]>([])
    private let gate = Gate()

    init(id: String = "recording", maxTokens: Int = 128, delay: Duration = .zero) {
        description = SpaceDescription(
            id: id, architecture: "fake", modalities: [.text, .image], dimensions: 0, maxTokens: maxTokens,
            space: "\(id)-space", defaultPooling: .mean, promptNames: ["query"], isDefault: true, takesInstructions: true)
        self.delay = delay
    }

    var recorded: [Call] { calls.withLock { $0 } }
    var callCount: Int { calls.withLock { $0.count } }

    /// Calls from now on block (after being recorded) until `release()`.
    func hold() { gate.close() }
    func release() { gate.open() }

    func embed(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
        let texts = inputs.map { input -> String in
            if case .text(let text) = input { return text }
            return "<media>"
        }
        calls.withLock { $0.append(Call(texts: texts, options: options)) }
        gate.pass()
        if delay > .zero { Thread.sleep(forTimeInterval: delay / .seconds(1)) }
        return texts.map { text in
            text.hasPrefix("FAIL") ? .failure(Failure()) : .success(EmbeddedVector(values: Self.vector(text), tokens: text.utf8.count))
        }
    }

    static func vector(_ text: String) -> [Float] { text.utf8.map(Float.init) }
    static func text(_ values: [Float]) -> String { String(decoding: values.map { UInt8($0) }, as: UTF8.self) }
}

/// Open or closed; `pass()` blocks while closed.
private final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var closed = false  // guarded by `condition`

    func close() {
        condition.lock()
        closed = true
        condition.unlock()
    }

    func open() {
        condition.lock()
        closed = false
        condition.broadcast()
        condition.unlock()
    }

    func pass() {
        condition.lock()
        while closed { condition.wait() }
        condition.unlock()
    }
}
