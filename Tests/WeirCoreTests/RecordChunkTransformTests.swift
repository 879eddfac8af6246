import Testing
@testable import WeirCore

/// ``RecordChunkTransform``: records that share lines get the lines and columns they
/// have in the file, in one pass over the chunk, and problems are reported there.
@Suite struct RecordChunkTransformTests {
    /// Writes each record's position as `LINE:COLUMN`; a record `!` is a bad one.
    struct PositionWriter: RecordTransform {
        func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
            if record.first == UInt8(ascii: "!") { throw RecordError("bad", column: 1) }
            output.append(contentsOf: "\(position.line):\(position.firstColumn)\n".utf8)
            return 1
        }
    }

    static func run<Transform: RecordTransform>(
        _ transform: Transform, _ bytes: [UInt8], records: [Range<Int>]?, firstLine: Int = 1, startColumn: Int? = nil
    ) async -> ChunkOutput {
        let chunk = InputChunk(
            sequence: 0, bytes: bytes, fileName: "f.json", firstLine: firstLine, records: records,
            fileContext: startColumn.map(ChunkStartColumn.init), readerProblem: nil, inputByteCount: bytes.count)
        var output = ChunkOutput(sequence: 0, stopsAtFirstProblem: false, inputByteCount: bytes.count)
        var transform = RecordChunkTransform(transform)
        await transform.process(chunk, into: &output)
        return output
    }

    /// The ranges of the space- or comma-separated words of `text`.
    static func words(_ text: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int? = nil
        for (index, byte) in text.enumerated() {
            let separates = byte == 0x20 || byte == 0x0A || byte == UInt8(ascii: ",")
            if separates, let first = start { ranges.append(first..<index); start = nil }
            if !separates, start == nil { start = index }
        }
        if let first = start { ranges.append(first..<text.count) }
        return ranges
    }

    /// Each range's line and column found the slow way: counting from the chunk's start.
    static func referencePositions(_ text: [UInt8], _ ranges: [Range<Int>], firstLine: Int, startColumn: Int) -> String {
        ranges.map { range in
            let before = text[..<range.lowerBound]
            let newlines = before.filter { $0 == 0x0A }.count
            let column = before.lastIndex(of: 0x0A).map { range.lowerBound - $0 } ?? startColumn + range.lowerBound
            return "\(firstLine + newlines):\(column)\n"
        }.joined()
    }

    @Test func positionsOfRecordsSharingLines() async {
        let text = Array("a bb,c\n\nd e\nf\n  ggg,h".utf8)
        let ranges = Self.words(text)
        for startColumn in [1, 2, 40] {
            let output = await Self.run(PositionWriter(), text, records: ranges, firstLine: 5, startColumn: startColumn)
            let expected = Self.referencePositions(text, ranges, firstLine: 5, startColumn: startColumn)
            #expect(String(decoding: output.bytes, as: UTF8.self) == expected)
            #expect(output.recordsRead == ranges.count && output.recordsWritten == ranges.count)
        }
        // A record spanning lines: the next one's line counts its newlines.
        let multiLine = Array("{\n}{\n\n} x".utf8)
        let output = await Self.run(PositionWriter(), multiLine, records: [0..<3, 3..<7, 8..<9], startColumn: 3)
        #expect(String(decoding: output.bytes, as: UTF8.self) == "1:3\n2:2\n4:3\n")
    }

    @Test func sameAsTheLineByLineTransformWhenChunksStartALine() async {
        let text = Array("x yy\n zz,w\n\nv".utf8)
        let ranges = Self.words(text)
        let chunk = InputChunk(
            sequence: 0, bytes: text, fileName: "f", firstLine: 3, records: ranges, fileContext: nil, readerProblem: nil, inputByteCount: text.count)
        var reference = ChunkOutput(sequence: 0, stopsAtFirstProblem: false, inputByteCount: text.count)
        var lineByLine = RecordChunkTransform(PositionWriter())
        await lineByLine.process(chunk, into: &reference)
        let output = await Self.run(PositionWriter(), text, records: ranges, firstLine: 3)
        #expect(output.bytes == reference.bytes)
        // Without ranges, every line is a record, as for the line-by-line transform.
        let lines = await Self.run(PositionWriter(), text, records: nil, firstLine: 3)
        #expect(String(decoding: lines.bytes, as: UTF8.self) == "3:1\n4:1\n6:1\n")
    }

    @Test func aLargeMinifiedChunkIsRightAndLinear() async {
        // 40 000 records on one line: scanning back to the line start for each would cost
        // 40 000 × 100 KB; carrying the column forward costs one pass.
        var text: [UInt8] = []
        var ranges: [Range<Int>] = []
        for index in 0..<40_000 {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            let start = text.count
            text.append(contentsOf: "{\"id\":\(index)}".utf8)
            ranges.append(start..<text.count)
        }
        let output = await Self.run(PositionWriter(), text, records: ranges, firstLine: 1, startColumn: 1_000_001)
        let positions = String(decoding: output.bytes, as: UTF8.self).split(separator: "\n")
        #expect(positions.count == ranges.count)
        #expect(positions.first == "1:1000001")
        #expect(positions.last == "1:\(1_000_001 + ranges.last!.lowerBound)")
        #expect(zip(positions, ranges).allSatisfy { $0 == "1:\(1_000_001 + $1.lowerBound)" })
    }

    @Test func problemsAreReportedAtTheRecordsColumn() async {
        let text = Array("ok,!x,ok\n!y".utf8)
        let output = await Self.run(PositionWriter(), text, records: Self.words(text), firstLine: 7, startColumn: 10)
        #expect(output.problems.map(\.line) == [7, 8])
        #expect(output.problems.map(\.column) == [13, 1])
        #expect(output.problems.map { String(decoding: $0.input, as: UTF8.self) } == ["!x", "!y"])
        #expect(String(decoding: output.bytes, as: UTF8.self) == "7:10\n7:16\n")
    }
}
