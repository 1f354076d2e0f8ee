import Encoders
import Foundation
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

    /// The N-best list: the best text first, distinct wordings only (case and punctuation aside), at most
    /// `count`, weights the softmax of the summed log-probabilities.
    @Test func nBestKeepsDistinctWordingsWeightedBySequenceProbability() throws {
        let best = WhisperDecoder.Alternative(text: "A dog sleeps.", logProbability: -1)
        let alternatives = [
            WhisperDecoder.Alternative(text: " a dog sleeps", logProbability: -1.5),      // same words: dropped
            WhisperDecoder.Alternative(text: " A dock sleeps.", logProbability: -2),
            WhisperDecoder.Alternative(text: " ...", logProbability: -2.5),               // no words: dropped
            WhisperDecoder.Alternative(text: " A dog sleep.", logProbability: -3),
            WhisperDecoder.Alternative(text: " The dog sleeps.", logProbability: -4),    // over the count
        ]
        let list = SpeechRecognizer.nBest(best: best, alternatives: alternatives, count: 3)
        #expect(list.map(\.text) == ["A dog sleeps.", "A dock sleeps.", "A dog sleep."])
        let expected = [-1.0, -2, -3].map { Foundation.exp($0) }
        let total = expected.reduce(0, +)
        for (weight, e) in zip(list.map(\.weight), expected) { #expect(abs(weight - e / total) < 1e-9) }
        #expect(SpeechRecognizer.nBest(best: best, alternatives: alternatives, count: 1).map(\.weight) == [1])
    }
}
