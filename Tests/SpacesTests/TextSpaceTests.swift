import Foundation
import Testing
import Domain
@testable import Spaces

/// A text space routes each input to its text encoder or to the bridge of its modality, and asks about each
/// input's caller by the input's own position in the call.
@Suite struct TextSpaceTests {
    /// Answers each input with its text (or the bytes of its media) unless the caller is gone.
    struct Echo: TextEncoding, ModalityBridge {
        var modality: Modality { .image }
        var name: String { "echo" }

        func embed(texts: [String], options: EmbeddingOptions, abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
            texts.indices.map { abandoned($0) ? .failure(SpaceError.abandoned) : .success(EmbeddedVector(values: [Float(texts[$0].count)])) }
        }

        func embed(_ media: [MediaBytes], options: EmbeddingOptions, text: any TextEncoding,
                   abandoned: Abandonment) -> [Result<EmbeddedVector, any Error>] {
            media.indices.map { abandoned($0) ? .failure(SpaceError.abandoned) : .success(EmbeddedVector(values: [Float(media[$0].data.count)])) }
        }
    }

    let space = TextSpace(
        text: Echo(),
        description: SpaceDescription(id: "t", architecture: "fake", modalities: [.text], dimensions: 1, maxTokens: 8,
                                      space: "t-space", defaultPooling: .mean, promptNames: [], isDefault: true, takesInstructions: true),
        bridges: [Echo()])

    @Test func eachInputGoesToItsEncoderInOrder() throws {
        let inputs: [SpaceInput] = [.text("ab"), .image(MediaBytes(data: Data([1, 2, 3]))), .text("abcd"), .audio(MediaBytes(data: Data([1])))]
        let outcomes = space.embed(inputs, options: EmbeddingOptions())
        #expect(try outcomes[0].get().values == [2])
        #expect(try outcomes[1].get().values == [3])
        #expect(try outcomes[2].get().values == [4])
        #expect(throws: SpaceError.modalityNotSupported(model: "t", modality: "audio")) { try outcomes[3].get() }
        #expect(space.description.modalities == [.text, .image])
    }

    @Test func abandonmentIsAskedByTheInputsPositionInTheCall() throws {
        let inputs: [SpaceInput] = [.text("ab"), .image(MediaBytes(data: Data([1, 2, 3]))), .text("abcd"), .image(MediaBytes(data: Data([1])))]
        let gone: Set<Int> = [1, 2]
        let outcomes = space.embed(inputs, options: EmbeddingOptions(), abandoned: Abandonment { gone.contains($0) })
        #expect(try outcomes[0].get().values == [2])
        #expect(throws: SpaceError.abandoned) { try outcomes[1].get() }
        #expect(throws: SpaceError.abandoned) { try outcomes[2].get() }
        #expect(try outcomes[3].get().values == [1])
    }
}
