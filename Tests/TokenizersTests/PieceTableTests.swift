import Testing
@testable import Tokenizers

@Suite struct PieceTableTests {
    static func lookup(_ table: PieceTable, _ key: String) -> Int32? {
        Array(key.utf8).withUnsafeBufferPointer { table.lookup($0) }
    }

    @Test func keysAreExactBytes() {
        // "é" precomposed and decomposed are canonically equivalent Strings but distinct vocabulary entries.
        let pairs: [(key: [UInt8], id: Int32)] = [(Array("\u{E9}".utf8), 1), (Array("e\u{301}".utf8), 2), (Array("e".utf8), 3)]
        let table = PieceTable(pairs)
        #expect(Self.lookup(table, "\u{E9}") == 1)
        #expect(Self.lookup(table, "e\u{301}") == 2)
        #expect(Self.lookup(table, "e") == 3)
        #expect(Self.lookup(table, "E") == nil)
        #expect(Self.lookup(table, "") == nil)
    }

    @Test func laterDuplicatesWinAndManyKeysResolve() {
        var pairs = (0..<5000).map { (key: Array("w\($0)".utf8), id: Int32($0)) }
        pairs.append((Array("w7".utf8), 99))
        let table = PieceTable(pairs)
        #expect(table.count == 5000)
        #expect(Self.lookup(table, "w7") == 99)
        #expect((0..<5000).filter { $0 != 7 }.allSatisfy { Self.lookup(table, "w\($0)") == Int32($0) })
        #expect(Self.lookup(table, "w5000") == nil)
    }
}
