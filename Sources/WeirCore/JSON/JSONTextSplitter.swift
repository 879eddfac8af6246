/// Cuts a stream of JSON text into records without parsing it: the framing of `weir-from-json`.
///
/// The input may be pretty-printed, hold several values in a row (separated by any JSON
/// whitespace, or by nothing as in `{}{}`), or be one huge top-level array. With
/// ``splitTopLevelArrays`` (the default) the elements of a top-level array are the records
/// (an empty array gives none); every other top-level value is one record.
///
/// The splitter is a structural scan, not a parse: it tracks strings, escapes and bracket
/// depth, which is enough to find where each value ends, and it costs about as much as
/// reading the bytes. Each record must still be validated (``JSONCompactor``); a malformed
/// record is cut somewhere plausible and its error comes from that validation. Bytes that
/// cannot start a record where they are (a stray `,`, `]`, `}` or `:`) are the splitter's
/// own error.
///
/// Feeding: keep a buffer, append what you read, and call ``split(_:isEndOfInput:)`` on
/// the bytes not consumed yet. The returned ``Output/records`` are byte ranges in that
/// buffer; ``Output/consumed`` says how many leading bytes are finished with (they are
/// all before the start of an unfinished record). Drop them, append more input, and call
/// again with the remaining bytes first: the scan resumes where it stopped, so a huge
/// value is never rescanned, and memory stays at one record plus one read buffer. A
/// record's size is `buffer.count - consumed` while it is unfinished, which is how the
/// caller enforces a maximum record size.
///
/// Discarding: a caller that will not hold a record whole (it is over the size limit)
/// calls ``discardUnfinishedRecord()`` while the record is unfinished. The scan goes on
/// through the record's bytes, but they are no longer kept: each later call consumes
/// everything it scanned, and the call that reaches the record's end stops right after
/// it, with ``Output/skippedRecord`` set instead of a record and ``Output/consumed`` at
/// its end. Splitting then continues with the next record as usual.
///
/// Positions: each record carries the 1-based line and byte column of its first byte in
/// the whole stream (every `\n` counts, `\r` is whitespace). A validation error at offset
/// `k` inside a record is at ``location(of:in:from:)``; the first byte of the next buffer is
/// at ``nextBufferLocation``.
package struct JSONTextSplitter: Sendable {
    /// One record: where it is in the buffer passed to ``split(_:isEndOfInput:)`` and where
    /// it starts in the stream.
    package struct Record: Sendable, Equatable {
        /// The record's bytes within the buffer of the call that returned it.
        package var range: Range<Int>
        /// The 1-based line of the record's first byte in the stream.
        package var line: Int
        /// The 1-based byte column of the record's first byte on its line.
        package var column: Int
    }

    /// A position in the stream: 1-based line and byte column.
    package struct Location: Sendable, Equatable {
        /// The 1-based line number.
        package var line: Int
        /// The 1-based column, counted in bytes.
        package var column: Int
    }

    /// Bytes that are not a record where they stand, and where.
    package struct Failure: Error, Sendable, Equatable {
        /// The error; its offset is within the buffer of the call that returned it.
        package var error: JSONError
        /// Where the error is in the stream.
        package var location: Location
    }

    /// What one call found.
    package struct Output: Sendable, Equatable {
        /// Complete records in order, as ranges of the buffer passed in.
        package var records: [Record]
        /// How many leading bytes of the buffer are finished with (pass the rest again).
        package var consumed: Int
        /// Set when the stream has an error after `records`: report the records first,
        /// then this. The splitter is then finished (later calls return the same failure).
        package var failure: Failure?
        /// Set when the record being discarded (``JSONTextSplitter/discardUnfinishedRecord()``)
        /// ended in this buffer: its range is the part of it in the buffer (through its end,
        /// which is ``consumed``), its line and column where it started. `records` is then empty.
        package var skippedRecord: Record? = nil
    }

    /// When true (the default), the elements of a top-level array are the records.
    package let splitTopLevelArrays: Bool

    private enum Context: Sendable {
        case topLevel, arrayStart, arrayAfterComma, arrayAfterElement
    }

    private var context = Context.topLevel
    private var inRecord = false
    private var recordDepth = 0
    private var inString = false
    private var recordIsScalar = false
    /// A backslash inside a string was the last byte scanned: the next byte is escaped.
    private var escapePending = false
    /// The unfinished record is being dropped (``discardUnfinishedRecord()``).
    private var discarding = false
    private var recordStart = 0
    private var recordLocation = Location(line: 1, column: 1)
    /// Where to resume scanning in the next buffer.
    private var resumeOffset = 0
    /// The stream offset of the next buffer's first byte.
    private var streamOffset = 0
    private var line = 1
    /// The stream offset of the first byte of the current line.
    private var lineStart = 0
    private var finalFailure: Failure?
    private var finished = false

    /// A splitter at the start of a stream (use one per input file).
    package init(splitTopLevelArrays: Bool = true) {
        self.splitTopLevelArrays = splitTopLevelArrays
    }

    /// The stream location of the first byte not consumed yet: where the next buffer starts.
    ///
    /// A caller that ships each consumed prefix as a chunk reads it before the call that
    /// cuts the chunk, to know the chunk's first column (``ChunkStartColumn``): a chunk of a
    /// minified array starts in the middle of a line.
    package var nextBufferLocation: Location {
        if inRecord && !discarding { return recordLocation }
        return Location(line: line, column: streamOffset &- lineStart &+ 1)
    }

    /// Stops keeping the unfinished record: its bytes are consumed as they are scanned and,
    /// when it ends, it is reported as ``Output/skippedRecord`` rather than returned.
    ///
    /// Returns false (and does nothing) when no record is unfinished. The next call of
    /// ``split(_:isEndOfInput:)`` takes the same buffer as before (the bytes not consumed).
    @discardableResult
    package mutating func discardUnfinishedRecord() -> Bool {
        guard inRecord, !finished, finalFailure == nil else { return false }
        discarding = true
        return true
    }

    /// Scans `buffer`, which starts with the bytes not consumed by the previous call.
    ///
    /// With `isEndOfInput` the whole buffer is the rest of the stream: an unfinished
    /// record is returned as it is (its validation then reports the truncation), and an
    /// unclosed top-level array is a failure.
    package mutating func split(_ buffer: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Output {
        if var failure = finalFailure {
            failure.error.offset = 0
            return Output(records: [], consumed: 0, failure: failure)
        }
        if finished { return Output(records: [], consumed: buffer.count, failure: nil) }
        precondition(resumeOffset <= buffer.count, "the buffer must start with the bytes not consumed before")
        let base = JSONScan.base(of: buffer)
        let count = buffer.count
        var records: [Record] = []
        var index = resumeOffset
        var failure: Failure?
        var skippedRecord: Record?

        scan: while true {
            if inRecord {
                var recordEnd = -1
                if inString {
                    if escapePending, index < count {
                        if base[index] == 0x0A { newLine(at: index) }
                        index &+= 1
                        escapePending = false
                    }
                    while true {
                        while index &+ 8 <= count {
                            let mask = Self.stringStopMask(JSONScan.loadWord(base + index))
                            if mask != 0 {
                                index &+= mask.trailingZeroBitCount &>> 3
                                break
                            }
                            index &+= 8
                        }
                        guard index < count else { break }
                        let byte = base[index]
                        if byte == UInt8(ascii: "\"") {
                            index &+= 1
                            inString = false
                            if recordDepth == 0 { recordEnd = index }
                            break
                        } else if byte == UInt8(ascii: "\\") {
                            guard index &+ 1 < count else {
                                escapePending = true  // the escaped byte is in the next buffer
                                index = count
                                break
                            }
                            if base[index &+ 1] == 0x0A { newLine(at: index &+ 1) }
                            index &+= 2
                        } else {
                            if byte == 0x0A { newLine(at: index) }
                            index &+= 1
                        }
                    }
                } else if recordIsScalar {
                    while index < count, !Self.endsScalar(base[index]) { index &+= 1 }
                    // The end of input ends a scalar too (then an unclosed array is still reported).
                    if index < count || isEndOfInput { recordEnd = index }
                } else {
                    while index < count {
                        let byte = base[index]
                        index &+= 1
                        switch byte {
                        case UInt8(ascii: "\""):
                            inString = true
                        case UInt8(ascii: "{"), UInt8(ascii: "["):
                            recordDepth &+= 1
                        case UInt8(ascii: "}"), UInt8(ascii: "]"):
                            recordDepth &-= 1
                            if recordDepth == 0 { recordEnd = index }
                        case 0x0A:
                            newLine(at: index &- 1)
                        default:
                            break
                        }
                        if inString || recordEnd >= 0 { break }
                    }
                }
                if recordEnd < 0 {
                    if index < count { continue scan }
                    guard isEndOfInput else { break scan }
                    // The stream ends inside a record: hand it over; validation reports it.
                    let record = Record(range: recordStart..<count, line: recordLocation.line, column: recordLocation.column)
                    if discarding { skippedRecord = record } else { records.append(record) }
                    inRecord = false
                    discarding = false
                    escapePending = false
                    finished = true
                    break scan
                }
                let record = Record(range: recordStart..<recordEnd, line: recordLocation.line, column: recordLocation.column)
                inRecord = false
                if context != .topLevel { context = .arrayAfterElement }
                if discarding {
                    // Stop right after it: the caller drops the bytes through its end.
                    discarding = false
                    skippedRecord = record
                    break scan
                }
                records.append(record)
                continue scan
            }

            // Between records: whitespace, then what the context allows.
            while index < count {
                let byte = base[index]
                guard byte <= 0x20, JSONScan.isWhitespace(byte) else { break }
                if byte == 0x0A { newLine(at: index) }
                index &+= 1
            }
            guard index < count else {
                if isEndOfInput {
                    if context != .topLevel {
                        failure = makeFailure(base, count, index, expected: expectation(context))
                    }
                    finished = failure == nil
                }
                break scan
            }
            let byte = base[index]
            let isStray = byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: ":")
            switch context {
            case .topLevel:
                if byte == UInt8(ascii: "["), splitTopLevelArrays {
                    context = .arrayStart
                    index &+= 1
                    continue scan
                }
                if isStray {
                    failure = makeFailure(base, count, index, expected: expectation(context))
                    break scan
                }
            case .arrayStart, .arrayAfterComma:
                if byte == UInt8(ascii: "]"), context == .arrayStart {
                    context = .topLevel
                    index &+= 1
                    continue scan
                }
                if isStray {
                    failure = makeFailure(base, count, index, expected: expectation(context))
                    break scan
                }
            case .arrayAfterElement:
                if byte == UInt8(ascii: ",") {
                    context = .arrayAfterComma
                } else if byte == UInt8(ascii: "]") {
                    context = .topLevel
                } else {
                    failure = makeFailure(base, count, index, expected: expectation(context))
                    break scan
                }
                index &+= 1
                continue scan
            }
            // A record starts here.
            inRecord = true
            recordStart = index
            recordLocation = Location(line: line, column: streamOffset &+ index &- lineStart &+ 1)
            recordDepth = 0
            inString = false
            escapePending = false
            recordIsScalar = false
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                recordDepth = 1
                index &+= 1
            case UInt8(ascii: "\""):
                inString = true
                index &+= 1
            default:
                recordIsScalar = true
            }
        }

        let consumed: Int
        if failure != nil {
            consumed = index
            finalFailure = failure
        } else if inRecord && !discarding {
            consumed = recordStart
        } else {
            consumed = index
        }
        resumeOffset = index &- consumed
        recordStart = 0
        streamOffset &+= consumed
        return Output(records: records, consumed: consumed, failure: failure, skippedRecord: skippedRecord)
    }

    /// The stream location of byte `offset` of `record` (whose first byte is at `start`):
    /// turns a validation error's offset into a line and column.
    package static func location(of offset: Int, in record: UnsafeRawBufferPointer, from start: Location) -> Location {
        var location = start
        let end = min(offset, record.count)
        var index = 0
        while index < end {
            if record[index] == 0x0A {
                location.line += 1
                location.column = 1
            } else {
                location.column += 1
            }
            index += 1
        }
        return location
    }

    private mutating func newLine(at index: Int) {
        line &+= 1
        lineStart = streamOffset &+ index &+ 1
    }

    private func makeFailure(_ base: UnsafePointer<UInt8>, _ count: Int, _ index: Int, expected: String) -> Failure {
        Failure(
            error: JSONScan.unexpected(base, count, index, expected: expected),
            location: Location(line: line, column: streamOffset &+ index &- lineStart &+ 1)
        )
    }

    private func expectation(_ context: Context) -> String {
        switch context {
        case .topLevel: "a JSON value"
        case .arrayStart: "an array element or ']'"
        case .arrayAfterComma: "an array element"
        case .arrayAfterElement: "',' or ']' after an array element"
        }
    }

    /// True for the bytes that end a bare scalar (number or literal) at the top level.
    @inline(__always)
    private static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x0A, 0x0D, 0x09, UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "\""),
             UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }

    /// High bits at the bytes a string scan stops at: `"`, `\` and `\n` (lowest is exact).
    @inline(__always)
    private static func stringStopMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let newline = word ^ (ones &* 0x0A)
        let hits = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((newline &- ones) & ~newline)
        return hits & 0x8080_8080_8080_8080
    }
}
