import Testing
@testable import WeirCore

/// Record framing and field splitting.
@Suite struct CSVTokenizerTests {
    @Test func quotedFieldsWithDelimitersQuotesAndNewlines() {
        let input = "a,\"b,c\",\"d\"\"e\",\"f\ng\"\r\n\"\",x\n"
        let result = tokenizeCSV(Array(input.utf8))
        #expect(result.errors.isEmpty)
        #expect(result.rows == [["a", "b,c", "d\"e", "f\ng"], ["", "x"]])
    }

    @Test func lastRowWithoutNewlineAndTrailingDelimiter() {
        #expect(tokenizeCSV(Array("a,b\n1,".utf8)).rows == [["a", "b"], ["1", ""]])
        #expect(tokenizeCSV(Array("a,b\n1,\"2\"".utf8)).rows == [["a", "b"], ["1", "2"]])
        #expect(tokenizeCSV(Array("a,b\n1,\"2\"\r".utf8)).rows == [["a", "b"], ["1", "2"]])
        #expect(tokenizeCSV(Array(",".utf8)).rows == [["", ""]])
    }

    /// A `\r` alone ends a record outside quotes (old Mac files), as in Miller, xsv and Python's csv.
    @Test func loneCarriageReturnEndsARecord() throws {
        #expect(tokenizeCSV(Array("a,b\r1,2\r3,4\r".utf8)).rows == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(tokenizeCSV(Array("a\rb,c\n\"q\"\r\"d\re\",f".utf8)).rows == [["a"], ["b", "c"], ["q"], ["d\re", "f"]])
        #expect(tokenizeCSV(Array("a\r\r\n\rb\r\n\r".utf8)).rows == [["a"], ["b"]])
        // Lines count `\r` alone like `\n` and `\r\n`, inside quotes too.
        let result = tokenizeCSV(Array("h\r\"x\ry\"\r\n\r5\"\r".utf8))
        let error = try #require(result.errors.first)
        #expect((error.line, error.column, error.row) == (5, 2, 3))
    }

    @Test func otherDialects() {
        let semicolon = CSVDialect(delimiter: UInt8(ascii: ";"), quote: UInt8(ascii: "'"))
        #expect(tokenizeCSV(Array("a;'b;''c'\n\"x\";y".utf8), dialect: semicolon).rows == [["a", "b;'c"], ["\"x\"", "y"]])
        #expect(tokenizeCSV(Array("a\tb\t\"c\td\"\n".utf8), dialect: .tsv).rows == [["a", "b", "c\td"]])
    }

    @Test func unterminatedQuoteAtEndOfInput() throws {
        let result = tokenizeCSV(Array("a,b\n1,\"open\n2,3\n".utf8))
        #expect(result.rows == [["a", "b"]])
        let error = try #require(result.errors.first)
        #expect(error.message.contains("unterminated quoted field"))
        #expect((error.line, error.column, error.row, error.field) == (2, 3, 2, 2))
    }

    @Test func junkAfterClosingQuoteSkipsOnlyThatRecord() throws {
        let result = tokenizeCSV(Array("a,b\n\"x\"y,1\n2,3\n".utf8))
        #expect(result.rows == [["a", "b"], ["2", "3"]])
        let error = try #require(result.errors.first)
        #expect(error.message.contains("'y' after the closing quote"))
        #expect((error.line, error.column, error.row, error.field) == (2, 4, 2, 1))
    }

    @Test func errorPositionsInsideMultilineRecords() throws {
        // Row 2 spans lines 2–3; the bad byte is on line 3, column 3.
        let result = tokenizeCSV(Array("h1,h2\n\"multi\nline\"x,1\nok,2\n".utf8))
        #expect(result.rows == [["h1", "h2"], ["ok", "2"]])
        let error = try #require(result.errors.first)
        #expect((error.line, error.column, error.row) == (3, 6, 2))
    }

    @Test func invalidUTF8IsAnErrorNeverReplaced() throws {
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            let input: [UInt8] = Array("a,b\nx,".utf8) + bad + Array(",\n1,2\n".utf8)
            let result = tokenizeCSV(input)
            #expect(result.rows == [["a", "b"], ["1", "2"]], "\(bad)")
            let error = try #require(result.errors.first)
            #expect(error.message.contains("invalid UTF-8"))
            #expect((error.line, error.column, error.field) == (2, 3, 2))
        }
        // A truncated sequence right before the delimiter, inside quotes too.
        let quoted: [UInt8] = Array("\"x".utf8) + [0xC3] + Array("\"\n".utf8)
        #expect(tokenizeCSV(quoted).errors.count == 1)
        #expect(tokenizeCSV(Array("é,日本,🙂\n".utf8)).rows == [["é", "日本", "🙂"]])
    }

    /// In transcoded input, a marker says what could not be read; in UTF-8 input 0xFF is just invalid.
    @Test func transcodingProblemsAreReportedWhereTheyWere() throws {
        var input = Array("a,b\n1,".utf8)
        CSVTranscodingProblem(.unpairedHighSurrogate, offset: 12).appendMarker(into: &input)
        input += Array("x\n2,y\n".utf8)
        var messages: [String] = []
        var rows: [[String]] = []
        for encoding in [CSVEncoding.utf16LE, nil] {
            input.withUnsafeBytes { bytes in
                var tokenizer = CSVTokenizer(chunk: bytes, dialect: .csv, transcodedFrom: encoding)
                while true {
                    do throws(CSVError) {
                        guard try tokenizer.nextRecord() else { break }
                        rows.append(tokenizer.fields.map { $0.text(in: bytes, quote: 0x22) })
                    } catch {
                        messages.append("\(error.line):\(error.column): field \(error.field): \(error.message)")
                    }
                }
            }
        }
        #expect(messages == ["2:3: field 2: not utf-16le: a high surrogate without a low one after it (byte 12 of the file)",
                             "2:3: field 2: invalid UTF-8 (byte 0xFF)"])
        #expect(rows == [["a", "b"], ["2", "y"], ["a", "b"], ["2", "y"]])
    }

    @Test func lineAndRowCountingSkipsBlankLines() throws {
        let input = "h\n\n1\n\"2\n\"\n\nx\"\n"
        let result = tokenizeCSV(Array(input.utf8))
        let error = try #require(result.errors.first)
        #expect((error.line, error.row) == (7, 4))
    }

    /// The framer's boundaries are those of the tokenizer, whatever the piece sizes.
    @Test func framerFindsTheSameBoundariesAsTheTokenizer() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let rows = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                (0..<Int.random(in: 1...4, using: &generator)).map { _ in randomField(&generator) }
            }
            var csv: [UInt8] = []
            let writer = CSVFieldWriter()
            for row in rows {
                for (index, field) in row.enumerated() {
                    if index > 0 { csv.append(UInt8(ascii: ",")) }
                    writer.appendField(Array(field.utf8), forceQuotes: row.count == 1 && field.isEmpty, into: &csv)
                }
                csv.append(contentsOf: [[0x0D, 0x0A], [0x0A], [0x0D]].randomElement(using: &generator)!)
            }
            let expected = tokenizeCSV(csv).rows
            #expect(expected == rows)
            let pieceSize = Int.random(in: 1...40, using: &generator)
            var framer = CSVRecordFramer()
            var buffer: [UInt8] = []
            var reassembled: [[String]] = []
            var offset = 0
            while offset < csv.count {
                let end = min(offset + pieceSize, csv.count)
                buffer += csv[offset..<end]
                offset = end
                let boundary = buffer.withUnsafeBytes { framer.completeRecordsEnd(in: $0) }
                if boundary > 0 {
                    #expect(buffer[boundary - 1] == 0x0A || buffer[boundary - 1] == 0x0D)
                    reassembled += tokenizeCSV(Array(buffer[..<boundary])).rows
                    buffer.removeFirst(boundary)
                    framer.consume(upTo: boundary)
                }
            }
            // A last `\r` waits for the end of the input: it could have been the start of a `\r\n`.
            #expect(buffer.isEmpty || buffer.last == 0x0D)
            #expect(!framer.isInsideQuotes)
            reassembled += tokenizeCSV(buffer).rows
            #expect(reassembled == rows)
        }
    }

    @Test func framerSkipsAnOversizedRecord() {
        let long = "1,\"\(String(repeating: "x\n", count: 500))\"\n"
        let csv = Array((long + "2,3\n").utf8)
        var framer = CSVRecordFramer()
        // The reader holds the first 100 bytes of the long record and gives up on it.
        #expect(Array(csv[0..<100]).withUnsafeBytes { framer.completeRecordsEnd(in: $0) } == 0)
        #expect(Array(csv[0..<100]).withUnsafeBytes { framer.skipRecord($0) } == nil)
        #expect(Array(csv[100..<600]).withUnsafeBytes { framer.skipRecord($0) } == nil)
        let rest = Array(csv[600...])
        let end = rest.withUnsafeBytes { framer.skipRecord($0) }
        #expect(end == long.utf8.count - 600)
        // Framing resumes normally after the skipped record.
        let tail = Array(rest[end!...])
        #expect(tail.withUnsafeBytes { framer.completeRecordsEnd(in: $0) } == 4)
    }

    /// A skipped record whose `\r` ends the bytes held: the next bytes say whether a `\n` belongs to it.
    @Test func framerSkipsAnOversizedRecordEndingInACarriageReturn() {
        for (next, end) in [("\n2,3\r", 1), ("2,3\r", 0)] {
            var framer = CSVRecordFramer()
            #expect(Array("1,\"x\ry\"\r".utf8).withUnsafeBytes { framer.skipRecord($0) } == nil)
            #expect(Array(next.utf8).withUnsafeBytes { framer.skipRecord($0) } == end)
        }
        var framer = CSVRecordFramer()
        #expect(Array("1,x\r".utf8).withUnsafeBytes { framer.skipRecord($0, isEndOfInput: true) } == 4)
        #expect(Array("1,x\r2".utf8).withUnsafeBytes { framer.skipRecord($0) } == 4)
    }

    @Test func byteScanHelpers() {
        let bytes = Array("0123456789\"abc\"\n\"\n".utf8)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            #expect(CSVRecordFramer.count(0x22, in: base, from: 0, to: raw.count) == 3)
            #expect(CSVRecordFramer.count(0x22, in: base, from: 11, to: raw.count) == 2)
            #expect(CSVRecordFramer.lastIndex(of: 0x0A, in: base, from: 0, to: raw.count) == 17)
            #expect(CSVRecordFramer.lastIndex(of: 0x0A, in: base, from: 0, to: 17) == 15)
            #expect(CSVRecordFramer.lastIndex(of: 0x0A, in: base, from: 0, to: 15) == nil)
            #expect(CSVRecordFramer.firstIndex(of: 0x22, in: base, from: 0, to: raw.count) == 10)
            #expect(CSVRecordFramer.firstIndex(of: 0x7A, in: base, from: 0, to: raw.count) == nil)
        }
    }

    @Test func sniffing() {
        func sniff(_ text: String) -> String? {
            Array(text.utf8).withUnsafeBytes { CSVDialect.sniff($0) }.map { String(UnicodeScalar($0)) }
        }
        #expect(sniff("a,b,c\n1,2,3\n") == ",")
        #expect(sniff("a;b;c\n1;\"2,5\";3\n4;5;6\n") == ";")
        #expect(sniff("a\tb\n1\t2,3\n") == "\t")
        #expect(sniff("name|note\nx|\"a,b;c\"\n") == "|")
        #expect(sniff("single\nvalue\n") == nil)
        // A semicolon file with decimal commas: commas vary per row, semicolons do not.
        #expect(sniff("price;qty\n2,50;1\n3;2\n10,25;3\n") == ";")
    }

    @Test func dialectValidationAndSpelling() {
        #expect(CSVDialect.csv.validate() == nil)
        #expect(CSVDialect(delimiter: 0x0A, quote: 0x22).validate() != nil)
        #expect(CSVDialect(delimiter: 0x22, quote: 0x22).validate() != nil)
        #expect(CSVDialect.parseCharacter("\\t") == 0x09)
        #expect(CSVDialect.parseCharacter("tab") == 0x09)
        #expect(CSVDialect.parseCharacter(";") == UInt8(ascii: ";"))
        #expect(CSVDialect.parseCharacter("§") == nil)
        #expect(CSVDialect.parseCharacter("ab") == nil)
    }
}

/// A random field mixing the awkward cases.
func randomField(_ generator: inout SeededGenerator) -> String {
    let pieces = ["a", "Zürich", "日本", "🙂", ",", "\"", "\"\"", "\n", "\r\n", " ", "\t", "00742", "0", "-1.5", "1e5",
                  "13911860366432393", "123456789012345678901234567890", "true", "null", "\\", "x y", ";", "1.10", "+5"]
    if Int.random(in: 0..<6, using: &generator) == 0 { return "" }
    return (0..<Int.random(in: 1...3, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
}

/// Row counting on the reader's side agrees with the tokenizer, blank lines and all.
@Suite struct CSVRecordCountTests {
    @Test func countsMatchTheTokenizer() {
        var generator = SeededGenerator(seed: 99)
        let pieces = ["a", ",", "\"", "\"\"", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "x,y", "\"q\nq\"", " "]
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let bytes = Array(text.utf8)
            var rows = 0
            bytes.withUnsafeBytes { raw in
                var tokenizer = CSVTokenizer(chunk: raw, dialect: .csv)
                while true {
                    do throws(CSVError) {
                        guard try tokenizer.nextRecord() else { break }
                        rows += 1
                    } catch {
                        rows += 1
                    }
                }
            }
            let counted = bytes.withUnsafeBytes { CSVRecordFramer.countRecords(in: $0, quote: 0x22) }
            #expect(counted.records == rows, "\(Array(text.unicodeScalars))")
            let lineBreaks = bytes.indices.filter { bytes[$0] == 0x0A || (bytes[$0] == 0x0D && ($0 + 1 == bytes.count || bytes[$0 + 1] != 0x0A)) }.count
            #expect(counted.lines == lineBreaks, "\(Array(text.unicodeScalars))")
        }
    }
}
