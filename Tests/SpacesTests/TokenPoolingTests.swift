import Testing
@testable import Spaces

@Suite struct TokenPoolingTests {
    @Test func anInstructionConditionsImagesAndAudioUnlessAnotherPoolingIsAsked() {
        #expect(TokenPooling(EmbeddingOptions()) == .native)
        #expect(TokenPooling(EmbeddingOptions(pooling: .cls)) == .native)
        #expect(TokenPooling(EmbeddingOptions(instruction: .text("the dog"))) == .instruction("the dog"))
        #expect(TokenPooling(EmbeddingOptions(instruction: .text("the dog"), pooling: .instruction)) == .instruction("the dog"))
        #expect(TokenPooling(EmbeddingOptions(instruction: .text("the dog"), pooling: .mean)) == .mean)
        #expect(TokenPooling(EmbeddingOptions(instruction: .prompt(name: "query"))) == .native)
    }

    @Test func aTranscriptsSentencesAreItsKeptTextCutAtSentenceEnds() {
        func segment(_ text: String, rejected: String? = nil) -> SpeechRecognizer.Segment {
            SpeechRecognizer.Segment(start: 0, end: 30, text: text, noSpeechProbability: 0.1, averageLogProbability: -0.2,
                                     unacceptable: false, rejected: rejected)
        }
        let transcript = SpeechRecognizer.Transcript(segments: [
            segment(" The dog is barking. It costs 3.5 dollars! Where is it"),
            segment(" you", rejected: "no speech"),
            segment(" The train leaves at noon. ..."),
        ], seconds: 75)
        #expect(transcript.sentences == [
            "The dog is barking.", "It costs 3.5 dollars!", "Where is it", "The train leaves at noon.",
        ])
    }
}
