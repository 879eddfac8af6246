import Testing
@testable import WeirCore

/// ``JSONTextSplitter``: records, positions and failures do not depend on how the input is
/// cut into pieces; over-long records can be discarded without being held.
@Suite struct JSONTextSplitterTests {
    /// What splitting a whole stream gave.
    struct Split: Equatable, CustomStringConvertible {
        var records: [String] = []
        var locations: [JSONTextSplitter.Location] = []
        var skipped: [JSONTextSplitter.Location] = []
        var failure: JSONTextSplitter.Failure? = nil

        var description: String { "records \(records), skipped \(skipped.count), failure \(String(describing: failure?.error))" }
    }

    /// Feeds `input` to a splitter in pieces as its doc comment says (unconsumed bytes
    /// first, then the next piece); records whose unfinished size exceeds `maxRecordBytes`
    /// are discarded.
    static func split(
        _ input: [UInt8], pieceSizes: () -> Int = { Int.max }, splitArrays: Bool = true, maxRecordBytes: Int = Int.max
    ) -> Split {
        var splitter = JSONTextSplitter(splitTopLevelArrays: splitArrays)
        var result = Split()
        var buffer: [UInt8] = []
        var offset = 0
        var calls = 0
        while true {
            calls += 1
            if calls > 10 * input.count + 100 { Issue.record("the splitter does not advance"); return result }
            let take = min(max(pieceSizes(), 0), input.count - offset)
            buffer.append(contentsOf: input[offset..<(offset + take)])
            offset += take
            let isEnd = offset == input.count
            let output = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: isEnd) }
            for record in output.records {
                result.records.append(String(decoding: buffer[record.range], as: UTF8.self))
                result.locations.append(JSONTextSplitter.Location(line: record.line, column: record.column))
            }
            if let skipped = output.skippedRecord {
                #expect(output.records.isEmpty)
                #expect(skipped.range.upperBound == output.consumed)
                result.skipped.append(JSONTextSplitter.Location(line: skipped.line, column: skipped.column))
            }
            if let failure = output.failure {
                result.failure = failure
                return result
            }
            #expect(output.consumed <= buffer.count)
            buffer.removeFirst(output.consumed)
            if buffer.count > maxRecordBytes, output.skippedRecord == nil {
                let discarding = splitter.discardUnfinishedRecord()
                #expect(discarding)
            }
            if isEnd && output.skippedRecord == nil {
                // One more call with nothing must give nothing (or repeat the end's failure).
                let again = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: true) }
                #expect(again.records.isEmpty)
                return result
            }
        }
    }

    static func split(_ text: String, splitArrays: Bool = true) -> Split {
        split(Array(text.utf8), splitArrays: splitArrays)
    }

    @Test func topLevelArrayElementsAreRecords() {
        let result = Self.split("[\n  {\"a\": [1, {\"b\": \"]\"}]},\n  2,\n  \"x,y\" , null,true,[] ,{}\n]\n")
        #expect(result.records == ["{\"a\": [1, {\"b\": \"]\"}]}", "2", "\"x,y\"", "null", "true", "[]", "{}"])
        #expect(result.locations.first == JSONTextSplitter.Location(line: 2, column: 3))
        #expect(result.locations[1] == JSONTextSplitter.Location(line: 3, column: 3))
        #expect(result.failure == nil)
        #expect(Self.split("[]").records.isEmpty)
        #expect(Self.split("[] [1] []").records == ["1"])
        #expect(Self.split("[1,2]", splitArrays: false).records == ["[1,2]"])
    }

    @Test func concatenatedValuesAndScalars() {
        let result = Self.split("{\"a\":1}{\"b\":2}\n\"s\" 12 -3.5e+2 true false null\"t\"[1]")
        #expect(result.records == ["{\"a\":1}", "{\"b\":2}", "\"s\"", "12", "-3.5e+2", "true", "false", "null", "\"t\"", "1"])
        #expect(result.locations[2] == JSONTextSplitter.Location(line: 2, column: 1))
        #expect(result.locations[3] == JSONTextSplitter.Location(line: 2, column: 5))
        #expect(Self.split("  42  ").records == ["42"])
        #expect(Self.split("42").records == ["42"])
        #expect(Self.split("").records.isEmpty)
        #expect(Self.split(" \n\t\r\n").records.isEmpty)
    }

    @Test func escapedQuotesAndBackslashes() {
        let text = "[\"a\\\"b\", \"c\\\\\", \"\\\\\\\"]\\\\\", {\"k\\\"}\": \"v\\\\\"}]"
        let expected = ["\"a\\\"b\"", "\"c\\\\\"", "\"\\\\\\\"]\\\\\"", "{\"k\\\"}\": \"v\\\\\"}"]
        #expect(Self.split(text).records == expected)
        let bytes = Array(text.utf8)
        for size in 1...6 {
            #expect(Self.split(bytes, pieceSizes: { size }).records == expected, "pieces of \(size)")
        }
    }

    @Test func strayBytesAreFailures() {
        let cases: [(String, [String], Int, Int, String)] = [
            ("[1,]", ["1"], 1, 4, "unexpected ']', expected an array element"),
            ("[1 2]", ["1"], 1, 4, "unexpected '2', expected ',' or ']' after an array element"),
            ("{} ]", ["{}"], 1, 4, "unexpected ']', expected a JSON value"),
            (",1", [], 1, 1, "unexpected ',', expected a JSON value"),
            ("[,1]", [], 1, 2, "unexpected ',', expected an array element or ']'"),
            ("1\n:2", ["1"], 2, 1, "unexpected ':', expected a JSON value"),
            ("[1,\n2", ["1", "2"], 2, 2, "unexpected end of input, expected ',' or ']' after an array element"),
            ("[", [], 1, 2, "unexpected end of input, expected an array element or ']'"),
        ]
        for (text, records, line, column, message) in cases {
            let result = Self.split(text)
            #expect(result.records == records, "\(text)")
            #expect(result.failure?.error.message == message, "\(text)")
            #expect(result.failure?.location == JSONTextSplitter.Location(line: line, column: column), "\(text)")
        }
    }

    @Test func unterminatedInputIsHandedOverForValidation() {
        for text in ["{\"a\":[1,2", "[{\"a\":\"xy", "\"abc\\", "[\"abc\\", "{\"a\":1}{", "tru"] {
            let result = Self.split(text)
            #expect(result.failure == nil, "\(text)")
            let last = Array(result.records.last?.utf8 ?? "".utf8)
            #expect(validateBytes(last).failure != nil || text == "tru", "\(text)")
        }
        #expect(Self.split("[{\"a\":\"xy").records == ["{\"a\":\"xy"])
        #expect(Self.split("\"abc\\").records == ["\"abc\\"])
    }

    @Test func recordsDoNotDependOnPieceSizes() {
        var random = JSONSeededGenerator(seed: 11)
        for round in 0..<300 {
            // A stream of values, some top-level arrays, with random whitespace.
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                JSONFixtures.spacedText(JSONFixtures.randomValue(&random, maxDepth: 3), &random, into: &text)
                text.append(contentsOf: [[0x20], [0x0A], [], [0x0D, 0x0A]].randomElement(using: &random)!)
            }
            if round % 10 == 0, !text.isEmpty { text.removeLast(Int.random(in: 0..<min(text.count, 5), using: &random)) }
            let whole = Self.split(text)
            for splitArrays in [true, false] {
                let reference = Self.split(text, splitArrays: splitArrays)
                for maxPiece in [1, 2, 3, 7, 16, 100] {
                    let pieced = Self.split(text, pieceSizes: { Int.random(in: 0...maxPiece, using: &random) }, splitArrays: splitArrays)
                    #expect(pieced.records == reference.records)
                    #expect(pieced.locations == reference.locations)
                    #expect(pieced.failure?.location == reference.failure?.location)
                    #expect(pieced.failure?.error.message == reference.failure?.error.message)
                }
            }
            // Every record that is valid compacts to a value, and the values are the stream's.
            for record in whole.records { _ = compactBytes(Array(record.utf8)) }
        }
    }

    @Test func splitRecordsAreTheValuesOfTheStream() throws {
        var random = JSONSeededGenerator(seed: 12)
        for _ in 0..<300 {
            let values = (0..<Int.random(in: 1...5, using: &random)).map { _ in JSONFixtures.randomValue(&random, maxDepth: 3) }
            var text: [UInt8] = []
            for value in values {
                JSONFixtures.spacedText(.array([value]), &random, into: &text)  // each value wrapped: split gives it back
                text.append(0x0A)
            }
            let result = Self.split(text, pieceSizes: { Int.random(in: 1...9, using: &random) })
            #expect(try result.records.map { try JSONParser.parse($0) } == values)
        }
    }

    @Test func largeMinifiedArrayIsSplitWithTheRightPositions() {
        // Half a megabyte of elements on one line (as `tr -d '\n'` leaves an array), then a second
        // array on line 2: every element and its column, however the stream is cut.
        let elements = [
            "{\"id\":1}", "{\"s\":\"a,]}\\\"[{\",\"n\":[1,[2,{}]]}", "\"x\\\\\"", "-12.5e3", "true", "null", "[]", "{}",
            "{\"k\":\"\\u00e9\\n\"}",
        ]
        var text: [UInt8] = [UInt8(ascii: "[")]
        var expected: [String] = []
        var locations: [JSONTextSplitter.Location] = []
        for index in 0..<60_000 {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            let element = elements[index % elements.count]
            locations.append(JSONTextSplitter.Location(line: 1, column: text.count + 1))
            expected.append(element)
            text.append(contentsOf: element.utf8)
        }
        text.append(contentsOf: "]\n[".utf8)
        for index in 0..<1_000 {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            locations.append(JSONTextSplitter.Location(line: 2, column: 2 + index * 2))
            expected.append("\(index % 10)")
            text.append(contentsOf: "\(index % 10)".utf8)
        }
        text.append(UInt8(ascii: "]"))
        #expect(text.count > 2 * 256 * 1024)  // more than two of the reader's chunks
        var random = JSONSeededGenerator(seed: 14)
        for pieces in [{ 256 * 1024 }, { 64 * 1024 + 7 }, { Int.random(in: 1...100_000, using: &random) }] {
            let result = Self.split(text, pieceSizes: pieces)
            #expect(result.failure == nil)
            #expect(result.records == expected)
            #expect(result.locations == locations)
        }
    }

    @Test func nextBufferLocationIsWhereTheUnconsumedBytesStart() {
        var splitter = JSONTextSplitter()
        #expect(splitter.nextBufferLocation == JSONTextSplitter.Location(line: 1, column: 1))
        var buffer = Array("[{\"a\":1},{\"b\":\n2".utf8)
        var output = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: false) }
        #expect(output.consumed == 9)
        // The unfinished record `{"b":` starts the next buffer, on line 1 though the scan is on line 2.
        #expect(splitter.nextBufferLocation == JSONTextSplitter.Location(line: 1, column: 10))
        buffer.removeFirst(output.consumed)
        buffer.append(contentsOf: "},3,\n 4".utf8)
        output = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: false) }
        #expect(output.records.map(\.column) == [10, 4])
        // The bare scalar `4` may go on in the next buffer: it is unfinished.
        #expect(output.consumed == buffer.count - 1)
        #expect(splitter.nextBufferLocation == JSONTextSplitter.Location(line: 3, column: 2))
        buffer.removeFirst(output.consumed)
        buffer.append(contentsOf: "]  ".utf8)
        output = buffer.withUnsafeBytes { splitter.split($0, isEndOfInput: true) }
        #expect(output.records.map(\.column) == [2])
        #expect(splitter.nextBufferLocation == JSONTextSplitter.Location(line: 3, column: 6))
    }

    @Test func locationOfAnErrorInsideARecord() {
        let record = Array("{\n  \"a\": 1,\n  \"b\" 2\n}".utf8)
        let error = compactBytes(record).failure!
        let location = record.withUnsafeBytes {
            JSONTextSplitter.location(of: error.offset, in: $0, from: JSONTextSplitter.Location(line: 5, column: 3))
        }
        #expect(location == JSONTextSplitter.Location(line: 7, column: 7))
    }

    // MARK: - Discarding over-long records

    @Test func discardedRecordIsSkippedAndSplittingGoesOn() {
        let long = "{\"b\":\"" + String(repeating: "x", count: 74) + "\"}"
        let text = Array("[{\"a\":1},\(long),{\"c\":3}]".utf8)
        for size in [1, 2, 5, 13, 40] {
            let result = Self.split(text, pieceSizes: { size }, maxRecordBytes: 40)
            #expect(result.records == ["{\"a\":1}", "{\"c\":3}"], "pieces of \(size)")
            #expect(result.skipped == [JSONTextSplitter.Location(line: 1, column: 10)], "pieces of \(size)")
            #expect(result.failure == nil)
        }
    }

    @Test func discardingWorksForEveryKindOfRecord() {
        let longString = "\"" + String(repeating: "ab\\\"\\\\", count: 20) + "\""
        let longNumber = String(repeating: "7", count: 80)
        let longNested = "{\"x\":[[" + String(repeating: "{\"k\":\"]}\"},", count: 10) + "0]]}"
        for long in [longString, longNumber, longNested] {
            let text = Array("1 \(long)\n2\n[\(long), 3]".utf8)
            for size in [1, 2, 3, 8, 30] {
                let result = Self.split(text, pieceSizes: { size }, maxRecordBytes: 20)
                #expect(result.records == ["1", "2", "3"], "\(long) in pieces of \(size)")
                #expect(result.skipped == [JSONTextSplitter.Location(line: 1, column: 3), JSONTextSplitter.Location(line: 3, column: 2)], "\(long) in pieces of \(size)")
                #expect(result.failure == nil)
            }
        }
    }

    @Test func discardedRecordAtEndOfInput() {
        let text = Array("[1, \"\(String(repeating: "z", count: 50))".utf8)
        let result = Self.split(text, pieceSizes: { 4 }, maxRecordBytes: 10)
        #expect(result.records == ["1"])
        #expect(result.skipped.count == 1)
        // Not in a record: nothing to discard.
        var splitter = JSONTextSplitter()
        let atStart = splitter.discardUnfinishedRecord()
        #expect(!atStart)
        _ = Array("[1,".utf8).withUnsafeBytes { splitter.split($0, isEndOfInput: false) }
        let betweenRecords = splitter.discardUnfinishedRecord()
        #expect(!betweenRecords)
    }

    @Test func discardingRandomStreamsKeepsTheShortRecords() {
        var random = JSONSeededGenerator(seed: 13)
        for _ in 0..<200 {
            var text: [UInt8] = [UInt8(ascii: "[")]
            for index in 0..<Int.random(in: 1...8, using: &random) {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                JSONFixtures.spacedText(JSONFixtures.randomValue(&random, maxDepth: 3), &random, into: &text)
            }
            text.append(UInt8(ascii: "]"))
            let limit = Int.random(in: 8...60, using: &random)
            let reference = Self.split(text)
            let pieceLimit = Int.random(in: 1...20, using: &random)
            let discarded = Self.split(text, pieceSizes: { Int.random(in: 1...pieceLimit, using: &random) }, maxRecordBytes: limit)
            // Every record kept is one of the stream's, in order; the others were reported skipped.
            #expect(discarded.records.count + discarded.skipped.count == reference.records.count)
            var kept = discarded.records.makeIterator()
            var next = kept.next()
            for record in reference.records where record == next { next = kept.next() }
            #expect(next == nil, "kept records are not a subsequence of the stream's")
            #expect(discarded.records.allSatisfy { $0.utf8.count <= limit + pieceLimit })
            #expect(discarded.failure == nil)
        }
    }
}
