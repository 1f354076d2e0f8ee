import Foundation
import FuzzSupport
@testable import Index

/// The write-ahead log reader and replay, as a restarting server runs them: `LocalIndex` opens a data
/// directory holding the fuzzed log, reads and CRC-checks its records, cuts a torn tail or searches past
/// damage for valid records, decodes each operation, validates it and applies it; then every collection is
/// searched and read. A log refused as damaged must be left byte for byte as it was.
///
/// Input: a mode byte, then
/// - mode bit 0 clear: the log file's bytes as they are (framing, header and CRC checks);
/// - mode bit 0 set: records as `u16 length, payload`, which the harness frames with a correct length and
///   CRC32, so the operation decoder and replay see payloads the CRC would otherwise almost always stop;
/// - mode bit 1 set: opened with `LogRecovery.truncate` (a copy kept, the log cut at the damage).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let directory = FuzzSupport.scratch + "/wal"
    try? FileManager.default.removeItem(atPath: directory)
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let log = data[0] & 1 == 0 ? input : framed(input)
    let logPath = directory + "/" + LocalIndex.logName
    FuzzSupport.write(log, to: logPath)
    var configuration = LocalIndex.Configuration(dataDirectory: directory)
    configuration.logRecovery = data[0] & 2 == 0 ? .refuse : .truncate
    let index: LocalIndex
    do {
        index = try LocalIndex(configuration)
    } catch IndexError.damagedLog {
        guard FileManager.default.contents(atPath: logPath).map(Array.init) == log else {
            fatalError("fuzz-wal: a log refused as damaged was changed on disk")
        }
        return 0
    } catch {
        return 0
    }
    IndexFuzzing.exercise(index)
    index.close()
    return 0
}

/// `magic, (u32 length, u32 crc32, payload)*` from `u16 length, payload` chunks (a short last chunk is cut).
func framed(_ chunks: [UInt8]) -> [UInt8] {
    var log = WriteAheadLog.magic
    var offset = 0
    while offset + 2 <= chunks.count {
        let length = Int(chunks[offset]) | Int(chunks[offset + 1]) << 8
        let payload = Array(chunks[(offset + 2)..<min(chunks.count, offset + 2 + length)])
        offset += 2 + length
        for value in [UInt32(payload.count), CRC32.checksum(payload)] {
            withUnsafeBytes(of: value.littleEndian) { log.append(contentsOf: $0) }
        }
        log.append(contentsOf: payload)
    }
    return log
}

/// Records of a real log as `u16 length, payload` chunks (the inverse of `framed`).
func chunks(ofLog log: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var offset = WriteAheadLog.magic.count
    while offset + 8 <= log.count {
        let length = Int(log[offset]) | Int(log[offset + 1]) << 8 | Int(log[offset + 2]) << 16 | Int(log[offset + 3]) << 24
        guard length < 1 << 16, offset + 8 + length <= log.count else { break }
        out += [UInt8(length & 0xFF), UInt8(length >> 8)] + log[(offset + 8)..<(offset + 8 + length)]
        offset += 8 + length
    }
    return out
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.writeSeedsIfAsked {
        let log = IndexFuzzing.sampleFile(LocalIndex.logName, snapshot: false)
        return [("raw-log", [0] + log), ("framed-records", [1] + chunks(ofLog: log)), ("empty-log", [0] + WriteAheadLog.magic)]
    }
    return 0
}
