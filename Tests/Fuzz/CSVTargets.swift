import WeirCore

/// The CSV framer, tokenizer, transcoder, encoder, field writer and table writer.
enum CSVFuzzTargets {
    /// The dialects a fuzz input can pick with one byte.
    private static let dialects: [CSVDialect] = [
        .csv, .tsv, CSVDialect(delimiter: UInt8(ascii: ";"), quote: UInt8(ascii: "\"")),
        CSVDialect(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "'")),
        CSVDialect(delimiter: UInt8(ascii: "|"), quote: UInt8(ascii: "\"")),
    ]

    private static func dialect(_ byte: UInt8) -> CSVDialect { dialects[Int(byte) % dialects.count] }

    // MARK: - Framing

    /// One tokenized record: its bytes, fields (or error) and where it started.
    private struct TokenizedRecord: Equatable {
        var bytes: [UInt8]
        var fields: [[UInt8]]
        var error: CSVError?
        var line: Int
        var row: Int
    }

    /// The framer and the tokenizer agree: the framer's incremental boundaries, fed in
    /// pieces, are record boundaries of the tokenizer (tokenizing the chunks between them
    /// gives exactly the records, fields, errors, lines and rows of tokenizing it all at
    /// once), ``CSVRecordFramer/countRecords(in:quote:)`` counts the tokenizer's records
    /// and lines, ``CSVRecordFramer/firstRecordEnd(in:quote:isEndOfInput:)`` ends the first
    /// record where the tokenizer does, and skipping records one by one with
    /// ``CSVRecordFramer/skipRecord(_:isEndOfInput:)`` passes the same records.
    static func framer(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let dialect = dialect(input.takeByte())
        let sizeByte = input.takeByte()
        let sizes = [Int(sizeByte & 15) + 1, Int(sizeByte >> 4) + 1, 7]
        let text = input.rest
        let (whole, wholeLines) = tokenize(text, dialect: dialect, firstLine: 1, firstRow: 1)

        // Framed in pieces, chunk by chunk, as the reader does.
        var framer = CSVRecordFramer(quote: dialect.quote)
        var framed: [TokenizedRecord] = []
        var buffer: [UInt8] = []
        var line = 1
        var row = 1
        var start = 0
        for end in pieceEnds(count: text.count, sizes: sizes) {
            buffer.append(contentsOf: text[start..<end])
            start = end
            let boundary = buffer.withUnsafeBytes { framer.completeRecordsEnd(in: $0) }
            FuzzCheck.require(boundary >= 0 && boundary <= buffer.count, "boundary \(boundary) outside the buffer of \(buffer.count)")
            guard boundary > 0 else { continue }
            let chunk = Array(buffer[..<boundary])
            let counted = chunk.withUnsafeBytes { CSVRecordFramer.countRecords(in: $0, quote: dialect.quote) }
            let (records, nextLine) = tokenize(chunk, dialect: dialect, firstLine: line, firstRow: row)
            FuzzCheck.require(counted.records == records.count && counted.lines == nextLine - line,
                              "countRecords \(counted) vs the tokenizer's \(records.count) records, \(nextLine - line) lines in chunk \(FuzzCheck.show(chunk))")
            framed += records
            line = nextLine
            row += records.count
            buffer.removeFirst(boundary)
            framer.consume(upTo: boundary)
        }
        if !buffer.isEmpty {
            let (records, _) = tokenize(buffer, dialect: dialect, firstLine: line, firstRow: row)
            framed += records
        }
        FuzzCheck.require(framed == whole,
                          "framing \(FuzzCheck.show(text)) in pieces \(sizes) changed the records:\n  \(framed)\nvs\n  \(whole)")

        let counted = text.withUnsafeBytes { CSVRecordFramer.countRecords(in: $0, quote: dialect.quote) }
        // The tokenizer's line after a last record without a line break is one past it.
        let endsOpen = text.last.map { $0 != 0x0A && $0 != 0x0D } ?? false
        FuzzCheck.require(counted.records == whole.count && counted.lines == wholeLines - 1 - (endsOpen ? 1 : 0),
                          "countRecords \(counted) vs the tokenizer's \(whole.count) records, \(wholeLines - 1) lines in \(FuzzCheck.show(text))")
        let firstEnd = text.withUnsafeBytes { CSVRecordFramer.firstRecordEnd(in: $0, quote: dialect.quote, isEndOfInput: true) }
        let tokenizerFirstEnd = firstRecordEnd(text, dialect: dialect)
        FuzzCheck.require(firstEnd == tokenizerFirstEnd, "firstRecordEnd \(String(describing: firstEnd)) vs the tokenizer's \(String(describing: tokenizerFirstEnd)) in \(FuzzCheck.show(text))")
        checkSkipping(text, dialect: dialect, sizes: sizes, records: whole.count)
    }

    /// Skipping records one at a time, fed in pieces, skips exactly the tokenizer's records
    /// (blank lines before a record are part of what is skipped).
    private static func checkSkipping(_ text: [UInt8], dialect: CSVDialect, sizes: [Int], records: Int) {
        var framer = CSVRecordFramer(quote: dialect.quote)
        var skipped = 0
        var offset = 0
        while offset < text.count {
            // Leading blank lines are not a record: the reader drops them before it skips.
            var rest = Array(text[offset...])
            let blank = rest.prefix { $0 == 0x0A || $0 == 0x0D }.count
            if blank == rest.count { break }
            offset += blank
            rest.removeFirst(blank)
            // Feed the record in pieces until its end is found.
            var consumedInRecord = 0
            var found: Int? = nil
            let ends = pieceEnds(count: rest.count, sizes: sizes)
            var start = 0
            for (index, end) in ends.enumerated() {
                let piece = Array(rest[start..<end])
                start = end
                let isEnd = index == ends.count - 1
                if let length = piece.withUnsafeBytes({ framer.skipRecord($0, isEndOfInput: isEnd) }) {
                    found = consumedInRecord + length
                    break
                }
                consumedInRecord += piece.count
            }
            skipped += 1
            guard let length = found else { break }  // the record ran to the end of the input
            FuzzCheck.require(length > 0, "skipRecord made no progress at \(offset) in \(FuzzCheck.show(text))")
            offset += length
        }
        FuzzCheck.require(skipped == records, "skipRecord passed \(skipped) records, the tokenizer found \(records), in \(FuzzCheck.show(text))")
    }

    /// The tokenizer's records in `text` and the line after the last.
    private static func tokenize(_ text: [UInt8], dialect: CSVDialect, firstLine: Int, firstRow: Int) -> ([TokenizedRecord], Int) {
        text.withUnsafeBytes { bytes in
            var tokenizer = CSVTokenizer(chunk: bytes, dialect: dialect, firstLine: firstLine, firstRow: firstRow)
            var records: [TokenizedRecord] = []
            while true {
                let before = tokenizer.position
                do throws(CSVError) {
                    guard try tokenizer.nextRecord() else { break }
                    records.append(TokenizedRecord(bytes: Array(tokenizer.recordBytes), fields: tokenizer.fields.map { $0.unquotedBytes(in: bytes, quote: dialect.quote) },
                                                   error: nil, line: tokenizer.recordLine, row: tokenizer.row))
                } catch {
                    records.append(TokenizedRecord(bytes: Array(tokenizer.recordBytes), fields: [], error: error, line: tokenizer.recordLine, row: tokenizer.row))
                }
                FuzzCheck.require(tokenizer.position > before, "the tokenizer made no progress at \(before) in \(FuzzCheck.show(text))")
                FuzzCheck.require(records.count <= text.count, "more records than bytes in \(FuzzCheck.show(text))")
            }
            return (records, tokenizer.line)
        }
    }

    /// Where the tokenizer ends its first record (nil when there is none).
    private static func firstRecordEnd(_ text: [UInt8], dialect: CSVDialect) -> Int? {
        text.withUnsafeBytes { bytes in
            var tokenizer = CSVTokenizer(chunk: bytes, dialect: dialect)
            do throws(CSVError) {
                guard try tokenizer.nextRecord() else { return nil }
            } catch {}
            return tokenizer.recordEnd
        }
    }

    // MARK: - CSV to NDJSON

    /// CSV → NDJSON as `weir-from-csv` does it (header from the first record): one valid JSON
    /// object per good record, one error per bad one, the same in pieces as at once, and
    /// with every field a string, each value is its field's text.
    static func transcode(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let dialect = dialect(input.takeByte())
        let optionByte = input.takeByte()
        var options = CSVConversionOptions()
        options.inference = CSVInference.allCases[Int(optionByte & 3) % CSVInference.allCases.count]
        options.empty = CSVEmptyPolicy.allCases[Int(optionByte >> 2 & 3) % CSVEmptyPolicy.allCases.count]
        options.ragged = CSVRaggedPolicy.allCases[Int(optionByte >> 4 & 3) % CSVRaggedPolicy.allCases.count]
        options.decimalComma = optionByte & 0x40 != 0
        if optionByte & 0x80 != 0 { options.rowKey = "row" }
        let typeByte = input.takeByte()
        let declaredType = CSVColumnType.allCases[Int(typeByte & 7) % CSVColumnType.allCases.count]
        let text = input.rest
        let (records, _) = tokenize(text, dialect: dialect, firstLine: 1, firstRow: 1)
        guard let headerRecord = records.first, headerRecord.error == nil else { return }
        let headerNames = headerRecord.fields.map { String(decoding: $0, as: UTF8.self) }
        if let first = headerNames.first { options.declaredTypes = [first: declaredType] }

        let whole = convert(text, dialect: dialect, options: options, pieceSizes: [text.count])
        let pieced = convert(text, dialect: dialect, options: options, pieceSizes: [Int(typeByte >> 3) + 1, 5])
        FuzzCheck.require(whole.lines == pieced.lines && whole.errors == pieced.errors,
                          "CSV → NDJSON of \(FuzzCheck.show(text)) differs in pieces: \(pieced.lines) \(pieced.errors) vs \(whole.lines) \(whole.errors)")
        FuzzCheck.require(whole.lines.count + whole.errors.count == records.count - 1,
                          "\(whole.lines.count) lines and \(whole.errors.count) errors for \(records.count - 1) records of \(FuzzCheck.show(text))")
        let header = CSVHeader(names: headerNames)
        let dataRecords = records.dropFirst().filter { $0.error == nil }
        var lineIndex = 0
        for line in whole.lines {
            guard case .object(let object)? = try? JSONParser.parse(line) else {
                FuzzCheck.fail("CSV → NDJSON wrote \(FuzzCheck.show(line)), not a JSON object, for \(FuzzCheck.show(text))")
            }
            FuzzCheck.require(!line.contains(0x0A), "a line feed inside the NDJSON line \(FuzzCheck.show(line))")
            var compact: [UInt8] = []
            try? JSONCompactor.compact(line, into: &compact)
            FuzzCheck.require(compact == line, "CSV → NDJSON wrote non-compact JSON \(FuzzCheck.show(line))")
            // All strings, nothing left out: the values are the field texts, in header order.
            let plain = options.inference == .none && options.empty == .string && options.ragged == .error
                && options.rowKey == nil && (declaredType == .string || declaredType == .auto)
            if plain, lineIndex < dataRecords.count, dataRecords.count == whole.lines.count {
                let record = dataRecords[dataRecords.startIndex + lineIndex]
                FuzzCheck.require(object.keys == header.names, "keys \(object.keys) are not the header \(header.names)")
                let expected = record.fields.map { JSONValue.string(String(decoding: $0, as: UTF8.self)) }
                FuzzCheck.require(object.values == expected,
                                  "values \(object.values) are not the fields \(expected) of \(FuzzCheck.show(record.bytes))")
            }
            lineIndex += 1
        }
    }

    /// Runs text through framer → tokenizer → encoder as the stage does, in pieces.
    private static func convert(_ text: [UInt8], dialect: CSVDialect, options: CSVConversionOptions, pieceSizes: [Int]) -> (lines: [[UInt8]], errors: [CSVError]) {
        var framer = CSVRecordFramer(quote: dialect.quote)
        let classes = CSVByteClasses(dialect)
        var encoder: CSVObjectEncoder? = nil
        var lines: [[UInt8]] = []
        var errors: [CSVError] = []
        var line = 1
        var row = 1
        func process(_ chunk: [UInt8]) {
            chunk.withUnsafeBytes { bytes in
                var tokenizer = CSVTokenizer(chunk: bytes, dialect: dialect, classes: classes, firstLine: line, firstRow: row)
                var output: [UInt8] = []
                while true {
                    do throws(CSVError) {
                        guard try tokenizer.nextRecord() else { break }
                        guard encoder != nil else {
                            encoder = CSVObjectEncoder(header: CSVHeader.from(tokenizer), options: options, dialect: dialect)
                            continue
                        }
                        let before = output.count
                        try encoder!.encode(tokenizer, into: &output)
                        FuzzCheck.require(output.count > before && output.last == 0x0A, "the encoder did not end its line with a line feed")
                    } catch {
                        errors.append(error)
                    }
                }
                line = tokenizer.line
                row = tokenizer.row + 1
                lines += output.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init)
            }
        }
        var buffer: [UInt8] = []
        var start = 0
        for end in pieceEnds(count: text.count, sizes: pieceSizes) {
            buffer.append(contentsOf: text[start..<end])
            start = end
            let boundary = buffer.withUnsafeBytes { framer.completeRecordsEnd(in: $0) }
            if boundary > 0 {
                process(Array(buffer[..<boundary]))
                buffer.removeFirst(boundary)
                framer.consume(upTo: boundary)
            }
        }
        if !buffer.isEmpty { process(buffer) }
        return (lines, errors)
    }

    // MARK: - Text encodings

    /// ``CSVTranscoder``: the same UTF-8 in pieces as at once; valid UTF-8 apart from its
    /// problem markers; Latin-1 and Windows-1252 map each byte to one scalar; UTF-16 without
    /// problems re-encodes to the input (less its byte order mark).
    static func encoding(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let encodingByte = input.takeByte()
        let encoding = CSVEncoding.allCases[Int(encodingByte & 7) % CSVEncoding.allCases.count]
        let sizes = [Int(encodingByte >> 3) + 1, 1, 2]
        let text = input.rest
        let whole = transcode(text, encoding: encoding, pieces: [text.count])
        let pieced = transcode(text, encoding: encoding, pieces: pieceEnds(count: text.count, sizes: sizes))
        FuzzCheck.require(whole == pieced, "\(encoding) of \(FuzzCheck.show(text)) differs in pieces \(sizes): \(FuzzCheck.show(pieced)) vs \(FuzzCheck.show(whole))")
        guard encoding != .utf8 else {
            let withoutBOM = text.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(text.dropFirst(3)) : text
            FuzzCheck.require(whole == withoutBOM, "UTF-8 was not passed through: \(FuzzCheck.show(whole)) for \(FuzzCheck.show(text))")
            return
        }
        let unmarked = whole.withUnsafeBytes { CSVTranscodingProblem.replacingMarkers(in: $0) }
        guard let decoded = String(validating: unmarked, as: UTF8.self) else {
            FuzzCheck.fail("\(encoding) of \(FuzzCheck.show(text)) is not UTF-8 apart from markers: \(FuzzCheck.show(whole))")
        }
        switch encoding {
        case .latin1, .windows1252:
            FuzzCheck.require(decoded.unicodeScalars.count == text.count, "\(encoding) made \(decoded.unicodeScalars.count) scalars of \(text.count) bytes")
        case .utf16, .utf16LE, .utf16BE:
            guard unmarked == whole else { return }  // a problem: nothing to compare
            let bigEndian: Bool
            var units = text
            switch encoding {
            case .utf16BE: bigEndian = true
            case .utf16LE: bigEndian = false
            default:
                bigEndian = text.starts(with: [0xFE, 0xFF]) || (!text.starts(with: [0xFF, 0xFE]) && text.count >= 2 && text[0] == 0 && text[1] != 0)
            }
            if units.starts(with: bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]) { units.removeFirst(2) }
            var reencoded: [UInt8] = []
            for unit in decoded.utf16 {
                reencoded += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            }
            FuzzCheck.require(reencoded == units, "\(encoding) of \(FuzzCheck.show(text)) does not re-encode: \(FuzzCheck.show(whole))")
        case .utf8: break
        }
    }

    private static func transcode(_ text: [UInt8], encoding: CSVEncoding, pieces: [Int]) -> [UInt8] {
        var transcoder = CSVTranscoder(encoding)
        var output: [UInt8] = []
        var start = 0
        let ends = pieces.last == text.count ? pieces : pieces + [text.count]
        for (index, end) in ends.enumerated() {
            text[start..<end].withUnsafeBytes { transcoder.transcode($0, isEndOfInput: index == ends.count - 1, into: &output) }
            start = end
        }
        return output
    }

    // MARK: - Writing CSV

    /// Rows of fields written by ``CSVFieldWriter`` and read back by ``CSVTokenizer`` are
    /// the same rows (fields are cut from the input at 0xFF, rows at 0xFE, and made UTF-8).
    static func roundTrip(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let optionByte = input.takeByte()
        let dialect = dialect(optionByte)
        let writer = CSVFieldWriter(dialect: dialect, quoteAll: optionByte & 0x10 != 0, crlf: optionByte & 0x20 != 0)
        let rows: [[String]] = input.rest.split(separator: 0xFE, omittingEmptySubsequences: false).map { row in
            row.split(separator: 0xFF, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        var output: [UInt8] = []
        for row in rows { writer.appendRow(row, into: &output) }
        let (records, _) = tokenize(output, dialect: dialect, firstLine: 1, firstRow: 1)
        let read = records.map { record in
            if let error = record.error { FuzzCheck.fail("written CSV \(FuzzCheck.show(output)) does not read back: \(error)") }
            return record.fields.map { String(decoding: $0, as: UTF8.self) }
        }
        FuzzCheck.require(read == rows, "rows \(rows) were written as \(FuzzCheck.show(output)) and read back as \(read)")
    }

    // MARK: - NDJSON to CSV

    /// NDJSON → CSV with ``CSVTableWriter`` (lines of the input are records): each written
    /// record is one valid CSV row with as many fields as there are columns, the header too,
    /// and a failed record writes nothing.
    static func flatten(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let optionByte = input.takeByte()
        var options = CSVTableOptions()
        options.dialect = dialect(optionByte)
        options.quoteAll = optionByte & 0x08 != 0
        options.crlf = optionByte & 0x10 != 0
        options.newKeys = CSVNewKeysPolicy.allCases[Int(optionByte >> 5 & 3) % CSVNewKeysPolicy.allCases.count]
        let depthByte = input.takeByte()
        options.flattenDepth = depthByte & 0x80 != 0 ? Int.max : Int(depthByte & 3)
        let lines = input.rest.split(separator: 0x0A)
        var writer = CSVTableWriter(columns: nil, options: options)
        var output: [UInt8] = []
        for line in lines {
            let record = Array(line)
            let columnsBefore = writer.columns
            let rowsBefore = writer.rowCount
            var rowBytes: [UInt8] = []
            do {
                _ = try record.withUnsafeBytes { try writer.write($0, into: &rowBytes) }
            } catch {
                FuzzCheck.require(rowBytes.isEmpty, "a failed record wrote \(FuzzCheck.show(rowBytes))")
                FuzzCheck.require(writer.columns == columnsBefore, "a failed record changed the columns")
                FuzzCheck.require(writer.rowCount == rowsBefore, "a failed record counted as a row")
                continue
            }
            FuzzCheck.require(writer.rowCount == rowsBefore + 1, "a written record did not count as a row")
            if options.newKeys != .append && rowsBefore > 0 {
                FuzzCheck.require(writer.columns == columnsBefore, "columns changed under --new-keys \(options.newKeys)")
            }
            // No columns (`{}` first): the header and rows are empty lines, which CSV cannot tell from blank ones.
            if writer.columns.isEmpty {
                FuzzCheck.require(rowBytes.allSatisfy { $0 == 0x0A || $0 == 0x0D }, "a row without columns is \(FuzzCheck.show(rowBytes))")
                continue
            }
            let (rows, _) = tokenize(rowBytes, dialect: options.dialect, firstLine: 1, firstRow: 1)
            let expectedRows = rowsBefore == 0 && options.header ? 2 : 1
            FuzzCheck.require(rows.count == expectedRows,
                              "record \(FuzzCheck.show(record)) became \(rows.count) CSV rows, not \(expectedRows): \(FuzzCheck.show(rowBytes))")
            for row in rows {
                FuzzCheck.require(row.error == nil, "record \(FuzzCheck.show(record)) became invalid CSV \(FuzzCheck.show(rowBytes)): \(String(describing: row.error))")
                FuzzCheck.require(row.fields.count == writer.columns.count,
                                  "record \(FuzzCheck.show(record)) became a row of \(row.fields.count) fields for \(writer.columns.count) columns: \(FuzzCheck.show(rowBytes))")
            }
            if rowsBefore == 0, options.header, let header = rows.first {
                FuzzCheck.require(header.fields.map { String(decoding: $0, as: UTF8.self) } == writer.columns, "the header row is not the columns")
            }
            output += rowBytes
        }
    }
}
