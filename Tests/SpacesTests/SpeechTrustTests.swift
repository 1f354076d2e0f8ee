import Testing
@testable import Spaces

/// The pieces of the speech trust rules that need no model: word normalisation, repeated n-grams, the
/// hallucination list and faster-whisper's compression ratio (zlib).
@Suite struct SpeechTrustTests {
    @Test func repeatedWordsAndHallucinationsAreRecognised() {
        #expect(SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("you you you")))
        #expect(SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("Beep, beep, beep.")))
        #expect(SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("Thank you. Thank you. Thank you.")))
        #expect(!SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("Thank you. Thank you.")))
        #expect(!SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("to get started on the side of the side of the side")))
        #expect(!SpeechRecognizer.isRepetition(SpeechRecognizer.normalized("My grandma, the best fresh red red red Sunday morning.")))
        #expect(SpeechRecognizer.hallucinations.contains(SpeechRecognizer.normalized("Thanks for watching!").joined(separator: " ")))
        #expect(SpeechRecognizer.normalized("♪ ♪ ...").isEmpty)
    }

    @Test func compressionRatioIsFasterWhispers() {
        // Python: len(t.encode()) / len(zlib.compress(t.encode())) for these strings.
        #expect(abs(SpeechDecoding.compressionRatio(String(repeating: "I'm going to go. ", count: 12)) - 204.0 / 27.0) < 1e-9)
        #expect(abs(SpeechDecoding.compressionRatio("A storm is moving in from the coast tonight.") - 44.0 / 52.0) < 1e-9)
        #expect(SpeechDecoding.compressionRatio("") == 0)
    }
}
