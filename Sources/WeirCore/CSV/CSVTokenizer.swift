/// One field of a tokenized record: where its text lies in the chunk and what writing it
/// out will need.
///
/// For a quoted field the range excludes the surrounding quotes but still holds doubled
/// quotes as two bytes (``hasDoubledQuotes``); unquoting happens only when the text is
/// used, and only for fields that need it.
package struct CSVField: Sendable, Equatable {
    /// Offset of the field's first content byte in the chunk.
    package var start: Int
    /// Offset just past the field's last content byte.
    package var end: Int
    /// Bit set of ``quotedFlag``, ``doubledQuotesFlag``, ``needsEscapeFlag``.
    package var flags: UInt8

    /// The field was enclosed in quotes.
    static let quotedFlag: UInt8 = 1
    /// The text holds doubled quotes standing for one quote each.
    static let doubledQuotesFlag: UInt8 = 2
    /// The text holds a byte that JSON must escape (control character, `\`, or a quote).
    static let needsEscapeFlag: UInt8 = 4

    /// A field from its range and flags.
    @inline(__always)
    package init(start: Int, end: Int, flags: UInt8) {
        self.start = start
        self.end = end
        self.flags = flags
    }

    /// The number of raw bytes (doubled quotes counted twice).
    @inline(__always)
    var rawCount: Int { end - start }

    /// Whether the field was quoted.
    @inline(__always)
    var isQuoted: Bool { flags & Self.quotedFlag != 0 }

    /// Whether the text holds doubled quotes.
    @inline(__always)
    var hasDoubledQuotes: Bool { flags & Self.doubledQuotesFlag != 0 }

    /// Whether writing the text as JSON needs escapes.
    @inline(__always)
    var needsEscape: Bool { flags & Self.needsEscapeFlag != 0 }

    /// The field's text with doubled quotes undone, as bytes.
    package func unquotedBytes(in chunk: UnsafeRawBufferPointer, quote: UInt8) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rawCount)
        var index = start
        while index < end {
            let byte = chunk[index]
            bytes.append(byte)
            index += (byte == quote && hasDoubledQuotes) ? 2 : 1
        }
        return bytes
    }

    /// The field's text as a `String` (doubled quotes undone).
    package func text(in chunk: UnsafeRawBufferPointer, quote: UInt8) -> String {
        String(decoding: unquotedBytes(in: chunk, quote: quote), as: UTF8.self)
    }
}

/// The field list of a tokenizer: a bare pointer array reused for every record.
private final class CSVFieldStorage {
    var base: UnsafeMutablePointer<CSVField>
    var count = 0
    var capacity = 64

    init() { base = .allocate(capacity: capacity) }
    deinit { base.deallocate() }

    @inline(__always)
    func append(_ start: Int, _ end: Int, _ flags: UInt8) {
        if count == capacity { grow() }
        (base + count).initialize(to: CSVField(start: start, end: end, flags: flags))
        count += 1
    }

    private func grow() {
        let newBase = UnsafeMutablePointer<CSVField>.allocate(capacity: capacity * 2)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity *= 2
    }
}

/// Splits a chunk of whole CSV records into fields, one record at a time.
///
/// The chunk must start at a record boundary (``CSVRecordFramer`` cuts such chunks). Each
/// call to ``nextRecord()`` finds the next non-blank record, fills ``fields`` with byte
/// ranges and returns true, or returns false at the end of the chunk. Records end at a
/// line break outside quotes: `\n`, `\r\n` or a `\r` alone. Blank lines are skipped, as
/// NDJSON stages skip them; they still count as lines. Lines count every line break,
/// quoted or not, the three kinds alike.
///
/// Errors follow RFC 4180 strictly: a quote inside an unquoted field, anything but a
/// delimiter or line break after a closing quote, a quoted field still open at the end of
/// the chunk, and invalid UTF-8 (overlong forms, surrogates, truncated sequences) are
/// reported as ``CSVError``. The tokenizer has then already moved past the bad record
/// (ending it by the same quote-parity rule as the framer), so the caller can report or
/// reject ``recordBytes`` and carry on with the next call.
package struct CSVTokenizer {
    /// The bytes being tokenized.
    package let chunk: UnsafeRawBufferPointer
    /// The delimiter and quote.
    package let dialect: CSVDialect
    /// The encoding the chunk was transcoded from, when it was (its problems are marked in it).
    package let transcodedFrom: CSVEncoding?
    private let classes: CSVByteClasses
    private let delimiterNeedsEscape: Bool

    private let storage = CSVFieldStorage()

    /// The fields of the current record (valid until the next call of ``nextRecord()``).
    @inline(__always)
    package var fields: UnsafeBufferPointer<CSVField> { UnsafeBufferPointer(start: storage.base, count: storage.count) }
    /// Offset of the current record's first byte.
    package private(set) var recordStart = 0
    /// Offset just past the current record's line break (or the chunk's end).
    package private(set) var recordEnd = 0
    /// Physical line on which the current record starts.
    package private(set) var recordLine: Int
    /// Row number of the current record.
    package private(set) var row: Int
    /// Offset of the next byte to tokenize.
    package private(set) var position = 0
    /// The physical line at ``position``.
    package private(set) var line: Int

    /// A tokenizer over `chunk`, whose first byte is on line `firstLine` and whose first
    /// record is row `firstRow`; `transcodedFrom` names the encoding of input that
    /// ``CSVTranscoder`` turned into the chunk.
    package init(chunk: UnsafeRawBufferPointer, dialect: CSVDialect, classes: CSVByteClasses? = nil, firstLine: Int = 1, firstRow: Int = 1,
                 transcodedFrom: CSVEncoding? = nil) {
        self.chunk = chunk
        self.dialect = dialect
        self.transcodedFrom = transcodedFrom
        self.classes = classes ?? CSVByteClasses(dialect)
        self.delimiterNeedsEscape = dialect.delimiter < 0x20 || dialect.delimiter == 0x22 || dialect.delimiter == 0x5C || dialect.delimiter == 0x7F
        self.line = firstLine
        self.recordLine = firstLine
        self.row = firstRow - 1
    }

    /// The raw bytes of the current record, line break included.
    package var recordBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: chunk[recordStart..<recordEnd])
    }

    /// The raw bytes of the current record without its line break.
    var recordText: UnsafeRawBufferPointer {
        var end = recordEnd
        if end > recordStart, chunk[end - 1] == 0x0A { end -= 1 }
        if end > recordStart, chunk[end - 1] == 0x0D { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: chunk[recordStart..<end])
    }

    /// Moves to the next non-blank record; false at the end of the chunk.
    ///
    /// On a malformed record it throws after moving past it; the record's bytes are then
    /// ``recordBytes`` and the next call continues after it.
    package mutating func nextRecord() throws(CSVError) -> Bool {
        let storage = self.storage
        storage.count = 0
        guard let base = chunk.baseAddress else { return false }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let count = chunk.count
        var index = position
        // Skip blank lines.
        while index < count {
            if bytes[index] == 0x0A {
                index += 1
                line += 1
            } else if bytes[index] == 0x0D {
                index += index + 1 < count && bytes[index + 1] == 0x0A ? 2 : 1
                line += 1
            } else {
                break
            }
        }
        if index >= count {
            position = count
            return false
        }
        recordStart = index
        recordLine = line
        row += 1
        let table = classes.table
        let delimiter = dialect.delimiter
        let quote = dialect.quote
        let delimiterPattern = UInt64(delimiter) &* Self.ones
        let quotePattern = UInt64(quote) &* Self.ones
        var newlinesInQuotes = 0

        fieldLoop: while true {
            let fieldStart = index
            if index < count, bytes[index] == quote {
                // Quoted field: runs to a quote not followed by another quote.
                var flags = CSVField.quotedFlag
                index += 1
                while true {
                    index = Self.skipOrdinary(bytes, from: index, to: count, delimiterPattern: 0, quotePattern: quotePattern)
                    while index < count, table[Int(bytes[index])] == 0 || (table[Int(bytes[index])] == CSVByteClasses.delimiter && !delimiterNeedsEscape) { index += 1 }
                    guard index < count else {
                        throw failRecord("unterminated quoted field (it opens here and the input ends inside it)",
                                         at: fieldStart, newlinesBefore: 0)
                    }
                    switch table[Int(bytes[index])] {
                    case CSVByteClasses.quote:
                        if index + 1 < count, bytes[index + 1] == quote {
                            flags |= CSVField.doubledQuotesFlag | CSVField.needsEscapeFlag
                            index += 2
                            continue
                        }
                        storage.append(fieldStart + 1, index, flags)
                        index += 1
                        guard index < count else { break fieldLoop }
                        let next = bytes[index]
                        if next == delimiter {
                            index += 1
                            continue fieldLoop
                        }
                        if next == 0x0A {
                            index += 1
                            break fieldLoop
                        }
                        if next == 0x0D {
                            index += index + 1 < count && bytes[index + 1] == 0x0A ? 2 : 1
                            break fieldLoop
                        }
                        storage.count -= 1  // the error is about this field
                        throw failRecord("\(describeByte(next)) after the closing quote of a field (expected the delimiter or a line break)",
                                         at: index, newlinesBefore: newlinesInQuotes)
                    case CSVByteClasses.newline:
                        newlinesInQuotes += 1
                        flags |= CSVField.needsEscapeFlag
                        index += 1
                    case CSVByteClasses.nonASCII:
                        let length = UTF8Validation.sequenceLength(chunk, at: index)
                        if length == 0 {
                            throw failRecord(invalidTextMessage(at: index), at: index, newlinesBefore: newlinesInQuotes)
                        }
                        index += length
                    case CSVByteClasses.delimiter:
                        if delimiterNeedsEscape { flags |= CSVField.needsEscapeFlag }
                        index += 1
                    case CSVByteClasses.carriageReturn:
                        // Data inside quotes; a line of its own unless a `\n` follows.
                        if index + 1 == count || bytes[index + 1] != 0x0A { newlinesInQuotes += 1 }
                        flags |= CSVField.needsEscapeFlag
                        index += 1
                    default:  // another byte JSON escapes
                        flags |= CSVField.needsEscapeFlag
                        index += 1
                    }
                }
            } else {
                // Unquoted field: runs to the delimiter or the line break.
                var flags: UInt8 = 0
                while true {
                    index = Self.skipOrdinary(bytes, from: index, to: count, delimiterPattern: delimiterPattern, quotePattern: quotePattern)
                    while index < count, table[Int(bytes[index])] == 0 { index += 1 }
                    guard index < count else {
                        storage.append(fieldStart, index, flags)
                        break fieldLoop
                    }
                    switch table[Int(bytes[index])] {
                    case CSVByteClasses.delimiter:
                        storage.append(fieldStart, index, flags)
                        index += 1
                        continue fieldLoop
                    case CSVByteClasses.newline:
                        storage.append(fieldStart, index, flags)
                        index += 1
                        break fieldLoop
                    case CSVByteClasses.carriageReturn:
                        storage.append(fieldStart, index, flags)
                        index += index + 1 < count && bytes[index + 1] == 0x0A ? 2 : 1
                        break fieldLoop
                    case CSVByteClasses.quote:
                        throw failRecord("quote inside an unquoted field (quote the whole field and double the quote)",
                                         at: index, newlinesBefore: newlinesInQuotes)
                    case CSVByteClasses.nonASCII:
                        let length = UTF8Validation.sequenceLength(chunk, at: index)
                        if length == 0 {
                            throw failRecord(invalidTextMessage(at: index), at: index, newlinesBefore: newlinesInQuotes)
                        }
                        index += length
                    default:
                        flags |= CSVField.needsEscapeFlag
                        index += 1
                    }
                }
            }
        }
        recordEnd = index
        position = index
        line += newlinesInQuotes + 1
        return true
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// A word with the high bit set in the bytes of `word` equal to the byte in `pattern`.
    @inline(__always)
    private static func equalBytes(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return ~(((x & lowBits) &+ lowBits) | x | lowBits)
    }

    /// Moves past bytes that need no attention, eight at a time: stops at the first byte
    /// that is the delimiter (unless `delimiterPattern` is 0), the quote, `"`, `\`, a
    /// control character, DEL or non-ASCII, or where fewer than eight bytes remain.
    ///
    /// The tests flag the first such byte exactly (borrows and carries only run upwards
    /// from a flagged byte), which is all that is needed; the caller's byte loop then
    /// classifies it with the table.
    @inline(__always)
    private static func skipOrdinary(_ bytes: UnsafePointer<UInt8>, from start: Int, to count: Int,
                                     delimiterPattern: UInt64, quotePattern: UInt64) -> Int {
        var index = start
        let raw = UnsafeRawPointer(bytes)
        while index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            var special = (word | (word &+ ones)) & highBits  // >= 0x7F
            special |= (word &- 0x2020_2020_2020_2020) & ~word & highBits  // < 0x20
            special |= equalBytes(word, 0x2222_2222_2222_2222) | equalBytes(word, 0x5C5C_5C5C_5C5C_5C5C)
            special |= equalBytes(word, quotePattern)
            if delimiterPattern != 0 { special |= equalBytes(word, delimiterPattern) }
            if special != 0 { return index + special.trailingZeroBitCount >> 3 }
            index += 8
        }
        return index
    }

    /// The physical line and byte column (1-based) of `offset` within the current record.
    package func location(of offset: Int) -> (line: Int, column: Int) {
        var line = recordLine
        var lineStart = recordStart
        var index = recordStart
        while index < offset {
            if isLineBreak(at: index) {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        return (line, offset - lineStart + 1)
    }

    /// Whether the byte at `index` ends a line: a `\n`, or a `\r` without a `\n` after it.
    @inline(__always)
    private func isLineBreak(at index: Int) -> Bool {
        let byte = chunk[index]
        return byte == 0x0A || (byte == 0x0D && (index + 1 == chunk.count || chunk[index + 1] != 0x0A))
    }

    /// What is wrong with the byte at `index`, which does not start valid UTF-8: what the
    /// transcoder could not read there, when it marked it so, or else invalid UTF-8.
    private func invalidTextMessage(at index: Int) -> String {
        if let transcodedFrom, let problem = CSVTranscodingProblem(marker: chunk, at: index) { return problem.message(transcodedFrom) }
        return "invalid UTF-8 (\(describeByte(chunk[index])))"
    }

    /// Builds the error for a problem at `offset`, and moves past the bad record.
    private mutating func failRecord(_ message: String, at offset: Int, newlinesBefore: Int) -> CSVError {
        let field = storage.count + 1
        let (errorLine, column) = location(of: offset)
        let error = CSVError(message, line: errorLine, column: column, row: row, field: field)
        // End the record where the framer would: the first line break after an even number of quotes.
        var odd = false
        var end = chunk.count
        var index = recordStart
        var newlines = 0
        while index < chunk.count {
            let byte = chunk[index]
            if byte == dialect.quote {
                odd.toggle()
            } else if isLineBreak(at: index) {
                newlines += 1
                if !odd {
                    end = index + 1
                    break
                }
            }
            index += 1
        }
        if end == chunk.count, index == chunk.count, chunk.count > recordStart, !isLineBreak(at: chunk.count - 1) {
            newlines += 1  // the last record has no line break but still occupies a line
        }
        recordEnd = end
        position = end
        line = recordLine + max(newlines, 1)
        return error
    }
}
