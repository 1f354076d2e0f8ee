import Domain
import Foundation
import Media

extension EmbeddingSpace {
    /// `embed`, and when `options.previews` is set, each embedded input's `Preview` in its outcome: a text's
    /// start; an image's thumbnail (`Media.Thumbnail`); an audio input's duration and, when it was bridged
    /// through speech, the start of its transcript. Runs where `embed` runs (the batch scheduler's worker).
    ///
    /// Previews are made only for inputs the space embedded, so their bytes have passed the space's own pixel
    /// and duration limits: the second decode here sets none of its own. An input whose caller is gone gets no
    /// preview (`SpaceError.abandoned`); a thumbnail that cannot be encoded fails its input (a server fault).
    public func embedWithPreviews(_ inputs: [SpaceInput], options: EmbeddingOptions, abandoned: Abandonment)
        -> [Result<EmbeddedVector, any Error>]
    {
        let outcomes = embed(inputs, options: options, abandoned: abandoned)
        guard options.previews else { return outcomes }
        return zip(inputs.indices, outcomes).map { i, outcome in
            outcome.flatMap { embedded in
                Result { () throws -> EmbeddedVector in
                    guard !abandoned(i) else { throw SpaceError.abandoned }
                    var withPreview = embedded
                    withPreview.preview = try Self.preview(of: inputs[i], embedded: embedded)
                    return withPreview
                }
            }
        }
    }

    static func preview(of input: SpaceInput, embedded: EmbeddedVector) throws -> Preview {
        switch input {
        case .text(let text):
            return Preview(text: text)
        case .image(let media):
            let image = try ImageDecoder.decode(media.data, maxPixels: .max)
            guard let thumbnail = try Thumbnail.make(image, maxSide: Preview.maxThumbnailSide, maxBytes: Preview.maxBytes) else {
                throw ImageError.encodingFailed(detail: "no JPEG quality fits \(Preview.maxBytes) bytes")
            }
            return Preview(thumbnailJPEG: thumbnail.jpeg, thumbnailWidth: thumbnail.width, thumbnailHeight: thumbnail.height)
        case .audio(let media):
            var decoder = AudioDecoder(maxSeconds: Double(Int32.max))
            decoder.sampleRates = 1...Int(Int32.max)
            let (samples, rate) = try decoder.decodeMono(media.data)
            return Preview(text: embedded.transcript ?? "", durationSeconds: Float(Double(samples.count) / Double(rate)))
        }
    }
}
