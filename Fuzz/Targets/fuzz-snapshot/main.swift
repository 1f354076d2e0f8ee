import Foundation
import FuzzSupport
@testable import Index

/// The snapshot reader, as a restarting server runs it: `LocalIndex` opens a data directory holding the
/// fuzzed snapshot (header, collections with their specs, rows, vectors, codes and metadata, trailing
/// CRC32) and an empty log; then every collection is searched and read.
///
/// Input: a mode byte, then the snapshot; mode odd appends the correct CRC32, so the reader's structure
/// checks (not only its checksum) see mutated contents.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var snapshot = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 1 {
        withUnsafeBytes(of: CRC32.checksum(snapshot).littleEndian) { snapshot.append(contentsOf: $0) }
    }
    let directory = FuzzSupport.scratch + "/snapshot"
    try? FileManager.default.removeItem(atPath: directory)
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    FuzzSupport.write(snapshot, to: directory + "/" + LocalIndex.snapshotName)
    guard let index = try? LocalIndex(LocalIndex.Configuration(dataDirectory: directory)) else { return 0 }
    IndexFuzzing.exercise(index)
    index.close()
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.writeSeedsIfAsked {
        let snapshot = IndexFuzzing.sampleFile(LocalIndex.snapshotName, snapshot: true)
        return [("snapshot-with-crc", [0] + snapshot), ("snapshot-crc-by-harness", [1] + snapshot.dropLast(4))]
    }
    return 0
}
