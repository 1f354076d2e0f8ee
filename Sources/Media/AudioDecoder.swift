import CSndFile
import Foundation

/// Decodes an audio file held in memory (WAV, FLAC, OGG/Vorbis, and MP3 when the system libsndfile has it)
/// through libsndfile's virtual I/O, downmixes it to mono and resamples it to the rate a model wants.
///
/// The duration limit is checked from the header, before any sample is decoded, so an over-long upload costs
/// nothing. A stream that ends early (truncated file) or fails mid-way is `AudioError.corrupt`, never a short
/// buffer passed on silently. MP3 is the exception on both counts: its header's frame count is an estimate
/// (from the file size and the first frame's bit rate, or a Xing/Info header), too high when ID3 tags or
/// padded frames take bytes, so an MP3's length is what decodes, bounded by the limit as it is read.
/// Samples that are not finite numbers (NaN or infinity in a float file) are `AudioError.nonFinite`.
public struct AudioDecoder: Sendable {
    /// Longest input accepted, in seconds.
    public var maxSeconds: Double
    /// Sample rates accepted at the input.
    public var sampleRates: ClosedRange<Int> = 4_000...192_000

    public init(maxSeconds: Double) {
        self.maxSeconds = maxSeconds
    }

    /// Mono float samples in [-1, 1] at `rate` Hz.
    public func decode(_ data: Data, rate: Int) throws(AudioError) -> [Float] {
        let (samples, inputRate) = try decodeMono(data)
        if inputRate == rate { return samples }
        return Resampler(from: inputRate, to: rate).process(samples)
    }

    /// Mono float samples at the file's own rate (channels averaged).
    public func decodeMono(_ data: Data) throws(AudioError) -> (samples: [Float], rate: Int) {
        let source = MemorySource(data)
        var info = SF_INFO()
        var io = MemorySource.virtualIO
        let opened: Result<OpaquePointer, AudioError> = Self.openLock.withLock {
            let file = withUnsafeMutablePointer(to: &io) { io in
                sf_open_virtual(io, Int32(SFM_READ), &info, Unmanaged.passUnretained(source).toOpaque())
            }
            return file.map { .success($0) } ?? .failure(openFailure())
        }
        let file = try opened.get()
        defer { sf_close(file) }
        let rate = Int(info.samplerate), channels = Int(info.channels)
        guard channels > 0 else { throw .unreadable(detail: Self.noChannels) }
        if let (promised, present) = Self.truncatedDataChunk(file) {
            throw .corrupt(detail: "the data chunk promises \(promised) bytes, the file holds \(present)")
        }
        guard sampleRates.contains(rate) else { throw .unsupportedSampleRate(rate, range: sampleRates) }
        // The frame count the header promises, when it is one (MP3's is an estimate; some OGG streams have none).
        let isMP3 = info.format & Int32(SF_FORMAT_TYPEMASK) == Int32(SF_FORMAT_MPEG)
        let frames = !isMP3 && info.frames > 0 && info.frames < Int64.max / 2 ? Int(info.frames) : 0
        let limitFrames = Int(maxSeconds * Double(rate))
        if frames > 0 && Double(frames) / Double(rate) > maxSeconds {
            throw .tooLong(seconds: Double(frames) / Double(rate), limit: maxSeconds)
        }
        var mono: [Float] = []
        mono.reserveCapacity(min(frames > 0 ? frames : rate, limitFrames + 1))
        let chunk = 16_384
        var buffer = [Float](repeating: 0, count: chunk * channels)
        while true {
            let got = buffer.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(chunk)) }
            if got <= 0 { break }
            let n = Int(got)
            if let bad = buffer[0..<(n * channels)].firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(frame: mono.count + bad / channels, rate: rate)
            }
            if channels == 1 {
                mono.append(contentsOf: buffer[0..<n])
            } else {
                let scale = 1 / Float(channels)
                for f in 0..<n {
                    var sum: Float = 0
                    for c in 0..<channels { sum += buffer[f * channels + c] }
                    mono.append(sum * scale)
                }
            }
            if mono.count > limitFrames {
                throw .tooLong(seconds: Double(mono.count) / Double(rate), limit: maxSeconds)
            }
        }
        let error = sf_error(file)
        if error != 0 { throw .corrupt(detail: String(cString: sf_strerror(file))) }
        if frames > 0 && mono.count < frames {
            throw .corrupt(detail: "header promises \(frames) frames, the data holds \(mono.count)")
        }
        guard !mono.isEmpty else { throw .empty }
        return (mono, rate)
    }
}

extension AudioDecoder {
    /// libsndfile keeps a failed open's error and parse log in globals: opens take turns, so that the words
    /// of a failure describe its own bytes.
    static let openLock = NSLock()

    /// Why libsndfile could not open the bytes, in words (call under `openLock`). Its "SF_INFO struct
    /// incomplete" means the header parsed but declares an impossible format (sample rate 0, no channels): the
    /// values are in its parse log's summary, which it keeps after a failed open.
    func openFailure() -> AudioError {
        let message = String(cString: sf_strerror(nil))
        var log = [CChar](repeating: 0, count: 4096)
        _ = log.withUnsafeMutableBufferPointer { sf_command(nil, Int32(SFC_GET_LOG_INFO), $0.baseAddress, Int32($0.count)) }
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if message.contains("Channel count is zero") { return .unreadable(detail: Self.noChannels) }
        guard message.contains("SF_INFO") else { return .unreadable(detail: message) }
        // The summary ("Sample rate : 0", "Channels : 1") is the log's last mention of each field.
        func declared(_ field: String) -> Int? {
            text.split(separator: "\n").last { $0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix(field) }
                .flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        if let rate = declared("sample rate"), rate < 1 { return .unsupportedSampleRate(rate, range: sampleRates) }
        if let channels = declared("channels"), channels < 1 { return .unreadable(detail: Self.noChannels) }
        return .unreadable(detail: "the header declares an incomplete format (sample rate, channels or encoding missing); write the file again with a complete header")
    }

    static let noChannels = "the header declares 0 channels (a broken header); write the file again with its real channel count"
}

extension AudioDecoder {
    /// libsndfile trusts the file size over a WAV/AIFF header and silently returns fewer frames; its parse log
    /// says "data : <header> (should be <actual>)". A header promising more than the file holds is a truncated
    /// upload. Streaming writers' placeholder sizes (0, 0xFFFFFFFF) are not.
    static func truncatedDataChunk(_ file: OpaquePointer) -> (Int, Int)? {
        var log = [CChar](repeating: 0, count: 4096)
        _ = log.withUnsafeMutableBufferPointer { sf_command(file, Int32(SFC_GET_LOG_INFO), $0.baseAddress, Int32($0.count)) }
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") || line.hasPrefix("SSND") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard line.contains("should be"), numbers.count >= 2 else { continue }
            let (promised, present) = (numbers[0], numbers[1])
            if promised > present && promised != 0xFFFF_FFFF && promised != 0xFFFF_FFFF - 8 { return (promised, present) }
        }
        return nil
    }
}

/// The bytes libsndfile reads through its virtual I/O callbacks (seekable, read-only).
private final class MemorySource {
    let bytes: [UInt8]
    var position = 0

    init(_ data: Data) { bytes = [UInt8](data) }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemorySource {
        Unmanaged<MemorySource>.fromOpaque(user!).takeUnretainedValue()
    }

    static var virtualIO: SF_VIRTUAL_IO {
        SF_VIRTUAL_IO(
            get_filelen: { user in sf_count_t(MemorySource.from(user).bytes.count) },
            seek: { offset, whence, user in
                let source = MemorySource.from(user)
                let base = switch whence {
                case SEEK_CUR: source.position
                case SEEK_END: source.bytes.count
                default: 0
                }
                let target = base + Int(offset)
                guard target >= 0 else { return -1 }
                source.position = target
                return sf_count_t(target)
            },
            read: { destination, count, user in
                let source = MemorySource.from(user)
                let n = max(0, min(Int(count), source.bytes.count - source.position))
                if n > 0, let destination {
                    source.bytes.withUnsafeBytes { raw in
                        destination.copyMemory(from: raw.baseAddress! + source.position, byteCount: n)
                    }
                }
                source.position += n
                return sf_count_t(n)
            },
            write: { _, _, _ in 0 },
            tell: { user in sf_count_t(MemorySource.from(user).position) }
        )
    }
}
