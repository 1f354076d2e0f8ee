import Foundation
import Testing
import TestSupport
@testable import Tensor

/// Files written by the tests themselves: a valid one, and each way a file can be malformed.
@Suite struct SafeTensorsTests {
    /// Writes `header` (JSON text) and `data` as a safetensors file; `lengthOverride` fakes the length prefix.
    static func write(header: String, data: [UInt8], lengthOverride: UInt64? = nil, truncateTo: Int? = nil) throws -> String {
        var bytes: [UInt8] = []
        let headerBytes = Array(header.utf8)
        var length = (lengthOverride ?? UInt64(headerBytes.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes += $0 }
        bytes += headerBytes
        bytes += data
        if let truncateTo { bytes = Array(bytes.prefix(truncateTo)) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("rosetta-st-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    static func expectError(_ path: String, _ check: (SafeTensorsError) -> Bool) {
        do {
            _ = try SafeTensors(path: path)
            Issue.record("expected \(path) to be refused")
        } catch {
            #expect(check(error), "unexpected error: \(error)")
        }
    }

    @Test func readsF32ZeroCopyAndConvertsHalfFormats() throws {
        // F32 [2, 2] at 0..<16; F16 [2] = [1.0, -2.0] at 16..<20; BF16 [2] = [0.5, 3.0] at 20..<24; I64 [1].
        let data = Self.floats([1, 2, 3, 4]) + [0x00, 0x3C, 0x00, 0xC0] + [0x00, 0x3F, 0x40, 0x40] + [UInt8](repeating: 0, count: 8)
        let header = """
        {"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
        "h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},\
        "ids":{"dtype":"I64","shape":[1],"data_offsets":[24,32]}}
        """
        let file = try SafeTensors(path: try Self.write(header: header, data: data))
        #expect(file.names == ["b", "h", "ids", "w"])
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.tensor("w").toArray() == [1, 2, 3, 4])
        #expect(try file.tensor("w").shape == [2, 2])
        #expect(try file.tensor("h").toArray() == [1, -2])
        #expect(try file.tensor("b").toArray() == [0.5, 3])
        #expect(throws: SafeTensorsError.notFloat(file: file.path, tensor: "ids", dtype: "I64")) { try file.tensor("ids") }
        #expect(throws: SafeTensorsError.missingTensor(file: file.path, tensor: "nope")) { try file.tensor("nope") }
    }

    @Test func tensorsOutliveTheFileObject() throws {
        let path = try Self.write(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#,
                                  data: Self.floats([7, 8, 9]))
        let tensor = try SafeTensors(path: path).tensor("w")
        #expect(tensor.toArray() == [7, 8, 9])
    }

    /// A weight packed at load gives its mapped pages back (LinearWeights); the view still reads the file's
    /// values afterwards, and the layer computes with the packed copy.
    @Test func releasedMappedPagesReadBackFromTheFile() throws {
        let (dOut, dIn) = (64, 1024)  // 256 KiB: whole pages inside
        let values = (0..<dOut * dIn).map { Float($0 % 251) - 125 }
        let header = #"{"w":{"dtype":"F32","shape":[\#(dOut),\#(dIn)],"data_offsets":[0,\#(4 * dOut * dIn)]}}"#
        // Padded so that the data is 4-byte aligned: a view of the mapping, not a copy.
        let path = try Self.write(header: header.padding(toLength: (header.count + 3) / 4 * 4, withPad: " ", startingAt: 0),
                                  data: Self.floats(values))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try SafeTensors(path: path).tensor("w")
        #expect(w.isMapped)
        let layer = try LinearWeights(weight: w, bias: nil)
        #expect(layer.unpacked == nil)
        #expect(w.toArray() == values)
        var rng = SeededRandom(seed: 5)
        let x = rng.tensor([3, dIn]), y = Tensor(zeros: [3, dOut])
        try Ops.linear(x, layer, into: y)
        #expect(maxAbsDifference(y, Reference.linear(x, weight: try Tensor(shape: [dOut, dIn], values: values), bias: nil)) < 0.5)
    }

    /// A packed layer keeps no copy of its weight (packing serves every call, at any depth); a strided view
    /// cannot be packed and is kept for SGEMM. Either way the layer computes the same.
    @Test func packedLayersKeepNoUnpackedWeight() throws {
        var rng = SeededRandom(seed: 6)
        for (dOut, dIn, strided) in [(48, 384, false), (16, PackedGEMM.depthBlock + 16, false), (16, 40, true)] {
            let wide = rng.tensor([dOut, 2 * dIn]), b = rng.tensor([dOut])
            let w = strided ? try wide.columns(0..<dIn) : try wide.columns(0..<dIn).copy()
            let layer = try LinearWeights(weight: w, bias: b)
            #expect((layer.unpacked != nil) == strided && (layer.packed == nil) == strided)
            for rows in [1, 7, 130] {
                let x = rng.tensor([rows, dIn]), y = Tensor(zeros: [rows, dOut])
                try Ops.linear(x, layer, into: y)
                #expect(maxAbsDifference(y, Reference.linear(x, weight: w.copy(), bias: b)) < 1e-3)
            }
        }
    }

    @Test func refusesTruncatedFiles() throws {
        Self.expectError(try Self.write(header: "", data: [], truncateTo: 5)) {
            if case .truncated = $0 { return true } else { return false }
        }
        // Length prefix says 200 bytes of header; only a few follow.
        Self.expectError(try Self.write(header: "{}", data: [], lengthOverride: 200)) {
            if case .truncated = $0 { return true } else { return false }
        }
        // Data cut short: the tensor's end offset is past the end of the file.
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        Self.expectError(try Self.write(header: header, data: Self.floats([1, 2, 3]))) {
            if case .offsetsOutOfRange(_, "w", 0, 16, 12) = $0 { return true } else { return false }
        }
    }

    @Test func refusesAbsurdHeaderLength() throws {
        Self.expectError(try Self.write(header: "{}", data: [], lengthOverride: UInt64.max)) {
            if case .headerTooLarge = $0 { return true } else { return false }
        }
    }

    @Test func refusesBadJSON() throws {
        Self.expectError(try Self.write(header: #"{"w": {"dtype": "F32", "#, data: [])) {
            if case .invalidHeader = $0 { return true } else { return false }
        }
        Self.expectError(try Self.write(header: "[1, 2]", data: [])) {
            if case .invalidHeader = $0 { return true } else { return false }
        }
        Self.expectError(try Self.write(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: Self.floats([1]))) {
            if case .invalidEntry(_, "w", _) = $0 { return true } else { return false }
        }
        Self.expectError(try Self.write(header: #"{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, data: Self.floats([1]))) {
            $0 == .unsupportedDType(file: ($0.fileName), tensor: "w", dtype: "Q4")
        }
    }

    @Test func refusesShapeThatDisagreesWithByteSpan() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}"#
        Self.expectError(try Self.write(header: header, data: Self.floats([1, 2, 3, 4]))) {
            if case .sizeMismatch(_, "w", [2, 3], "F32", 24, 16) = $0 { return true } else { return false }
        }
    }

    @Test func refusesOverlappingTensors() throws {
        let header = """
        {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
        """
        Self.expectError(try Self.write(header: header, data: Self.floats([1, 2, 3]))) {
            if case .overlapping(_, "b", "a") = $0 { return true } else { return false }
        }
    }

    @Test func refusesMissingFile() {
        Self.expectError("/nonexistent/model.safetensors") {
            if case .cannotOpen = $0 { return true } else { return false }
        }
    }
}

extension SafeTensorsError {
    var fileName: String {
        switch self {
        case let .unsupportedDType(file, _, _): return file
        default: return ""
        }
    }
}
