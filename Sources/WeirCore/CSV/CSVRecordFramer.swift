/// Finds where whole CSV records end in a growing buffer, so input can be cut into chunks
/// of complete records that workers tokenize independently.
///
/// A record ends at a line break outside quotes: `\n`, `\r\n`, or a `\r` alone (old Mac
/// files, as Miller, xsv and Python's csv read them). In RFC 4180 every quote byte toggles
/// the "inside quotes" state (a doubled quote toggles twice), so a line break ends a record
/// exactly when the number of quote bytes before it, counted from a record boundary, is
/// even. The framer therefore never looks at delimiters: it counts quote bytes eight at a
/// time (SWAR) over the bytes it has not seen yet, then walks back from the end to the
/// last line break with even parity. Each byte is counted once however often the buffer
/// grows, and the walk back never goes below the bytes already examined, so a record of
/// any size costs linear time. A `\r` that ends the buffer is not a boundary yet, since a
/// `\n` may follow in the next read; it is looked at again then.
///
/// Protocol, for a reader that appends input to a buffer starting at a record boundary:
/// 1. after each read, call ``completeRecordsEnd(in:)``; everything before the returned
///    offset is whole records (0: none yet);
/// 2. hand those bytes to a worker, drop them from the buffer's front and call
///    ``consume(upTo:)`` with the same offset;
/// 3. at end of input the rest of the buffer, if any, is the last record (without its
///    line break); ``isInsideQuotes`` then says whether its quote was never closed.
///
/// A record that grows beyond the reader's limit can be skipped without holding it
/// (``skipRecord(_:isEndOfInput:)``).
///
/// A quote inside an unquoted field (`5"`), which RFC 4180 forbids, upsets the count; the
/// tokenizer reports that record as an error, and framing stays in step with it because
/// the tokenizer ends records by the same parity rule.
package struct CSVRecordFramer: Sendable {
    /// The quote byte whose parity decides record boundaries.
    package let quote: UInt8
    /// How many bytes from the buffer's start have been examined.
    private var scannedCount = 0
    /// Whether an odd number of quotes precede `scannedCount` (from the last boundary consumed).
    private var oddQuotes = false
    /// The end of the last complete record within the scanned bytes (0: none).
    private var boundary = 0
    /// True between calls of ``skipRecord(_:isEndOfInput:)`` that have not found the record's end yet.
    private var skipping = false
    /// True when the bytes dropped by the last ``skipRecord(_:isEndOfInput:)`` ended in a
    /// `\r` outside quotes.
    private var skippedCarriageReturn = false

    /// A framer for input quoted with `quote`.
    package init(quote: UInt8 = UInt8(ascii: "\"")) {
        self.quote = quote
    }

    /// True when the scanned bytes end inside a quoted field.
    package var isInsideQuotes: Bool { oddQuotes }

    /// How many bytes of the buffer have been examined.
    var scanned: Int { scannedCount }

    /// The offset just past the last complete record (its line break) in `buffer`, or 0 if none.
    ///
    /// `buffer` must start where the previous call's buffer started (after ``consume(upTo:)``)
    /// and hold at least as many bytes; only bytes not seen before are examined (and a `\r`
    /// that ended the previous buffer).
    package mutating func completeRecordsEnd(in buffer: UnsafeRawBufferPointer) -> Int {
        let end = buffer.count
        precondition(end >= scannedCount, "CSVRecordFramer: the buffer shrank without consume(upTo:)")
        guard end > scannedCount, let base = buffer.baseAddress else { return boundary }
        let start = scannedCount
        let oddAtEnd = oddQuotes != Self.hasOddCount(of: quote, in: base, from: start, to: end)
        // Walk back over the new bytes to the last line break preceded by an even count.
        let lowest = start > boundary && base.load(fromByteOffset: start - 1, as: UInt8.self) == 0x0D ? start - 1 : start
        var position = end
        var oddAtPosition = oddAtEnd
        while let lineBreak = Self.lastLineBreak(in: base, from: lowest, to: position) {
            oddAtPosition = oddAtPosition != Self.hasOddCount(of: quote, in: base, from: lineBreak + 1, to: position)
            if !oddAtPosition && Self.endsLine(base, at: lineBreak, count: end, isEndOfInput: false) {
                boundary = lineBreak + 1
                break
            }
            position = lineBreak
        }
        scannedCount = end
        oddQuotes = oddAtEnd
        return boundary
    }

    /// Tells the framer that the caller dropped the first `count` bytes of its buffer,
    /// `count` being a record end this framer returned.
    package mutating func consume(upTo count: Int) {
        precondition(count >= 0 && count <= boundary, "CSVRecordFramer: can only consume whole records")
        scannedCount -= count
        boundary -= count
    }

    /// Finds the end of the record that starts `bytes`, to skip it without holding it
    /// (it is longer than the reader allows): the offset just past its line break, or `nil`
    /// when its end is not in `bytes`. After `nil` the caller drops all of `bytes` and calls
    /// again with what follows; the quote state carries over (and a `\r` that ended the
    /// dropped bytes: the record ended there, or with the `\n` that follows it). At end of
    /// input the record simply runs to the end.
    package mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool = false) -> Int? {
        if !skipping {
            skipping = true
            oddQuotes = false
            skippedCarriageReturn = false
        }
        scannedCount = 0
        boundary = 0
        guard let base = bytes.baseAddress else { return nil }
        if skippedCarriageReturn {
            skippedCarriageReturn = false
            skipping = false
            return base.load(as: UInt8.self) == 0x0A ? 1 : 0
        }
        var position = 0
        while let lineBreak = Self.firstLineBreak(in: base, from: position, to: bytes.count) {
            oddQuotes = oddQuotes != Self.hasOddCount(of: quote, in: base, from: position, to: lineBreak)
            position = lineBreak + 1
            if oddQuotes || !Self.endsLine(base, at: lineBreak, count: bytes.count, isEndOfInput: true) { continue }
            if lineBreak + 1 == bytes.count && !isEndOfInput && base.load(fromByteOffset: lineBreak, as: UInt8.self) == 0x0D {
                skippedCarriageReturn = true  // a `\n` may follow in the next bytes
                return nil
            }
            skipping = false
            return lineBreak + 1
        }
        oddQuotes = oddQuotes != Self.hasOddCount(of: quote, in: base, from: position, to: bytes.count)
        return nil
    }

    /// The end of the first non-blank record in `bytes` (which starts at a record boundary):
    /// the offset just past its line break, the end of `bytes` when `isEndOfInput` and the
    /// record has no line break, or `nil` when it is not complete yet (or there is none).
    package static func firstRecordEnd(in bytes: UnsafeRawBufferPointer, quote: UInt8, isEndOfInput: Bool) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var recordStart = 0
        var position = 0
        var odd = false
        while let lineBreak = firstLineBreak(in: base, from: position, to: bytes.count) {
            odd = odd != hasOddCount(of: quote, in: base, from: position, to: lineBreak)
            position = lineBreak + 1
            if odd || !endsLine(base, at: lineBreak, count: bytes.count, isEndOfInput: isEndOfInput) { continue }
            if !isBlank(base, recordStart, lineBreak) { return lineBreak + 1 }
            recordStart = lineBreak + 1
        }
        if isEndOfInput && !isBlank(base, recordStart, bytes.count) { return bytes.count }
        return nil
    }

    /// The offset just past the first line break in `base[from..<to]` (`\n`, `\r\n` or a
    /// `\r` alone), quotes ignored, for preamble lines; `nil` when there is none, or when the
    /// only one is a `\r` that ends the bytes before the end of the input (a `\n` may follow).
    static func firstLineEnd(in base: UnsafeRawPointer, from: Int, to: Int, isEndOfInput: Bool) -> Int? {
        var position = from
        while let lineBreak = firstLineBreak(in: base, from: position, to: to) {
            position = lineBreak + 1
            if endsLine(base, at: lineBreak, count: to, isEndOfInput: isEndOfInput) { return lineBreak + 1 }
        }
        return nil
    }

    /// The number of non-blank records in `bytes`, which starts at a record boundary (a
    /// final record without a line break counts too), and the number of line breaks.
    ///
    /// Records end as the framer and the tokenizer end them (a line break after an even
    /// number of quotes), so `records` is the number of rows a tokenizer will find in a
    /// chunk, good and bad; the reader uses it to number rows across chunks. `lines` counts
    /// every `\n`, `\r\n` and lone `\r`, quoted or not, as the tokenizer counts lines.
    package static func countRecords(in bytes: UnsafeRawBufferPointer, quote: UInt8) -> (records: Int, lines: Int) {
        guard let base = bytes.baseAddress else { return (0, 0) }
        let end = bytes.count
        let quotePattern = UInt64(quote) &* ones
        let lineFeedPattern = UInt64(0x0A) &* ones
        let carriageReturnPattern = UInt64(0x0D) &* ones
        var odd = false
        var records = 0
        var lines = 0
        var recordStart = 0
        var index = 0
        @inline(__always) func visit(_ position: Int, _ byte: UInt8) {
            if byte == quote {
                odd.toggle()
                return
            }
            guard endsLine(base, at: position, count: end, isEndOfInput: true) else { return }  // the `\r` of `\r\n`
            lines += 1
            if odd { return }
            if !isBlank(base, recordStart, position) { records += 1 }
            recordStart = position + 1
        }
        while index + 8 <= end {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            var found = matches(word, quotePattern) | matches(word, lineFeedPattern) | matches(word, carriageReturnPattern)
            while found != 0 {
                let position = index + found.trailingZeroBitCount >> 3
                found &= found &- 1
                visit(position, base.load(fromByteOffset: position, as: UInt8.self))
            }
            index += 8
        }
        while index < end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == quote || byte == 0x0A || byte == 0x0D { visit(index, byte) }
            index += 1
        }
        if !isBlank(base, recordStart, end) { records += 1 }
        return (records, lines)
    }

    /// The number of line breaks (`\n`, `\r\n`, a lone `\r`) in `bytes`, quotes ignored; a
    /// `\r` at the end counts (the caller knows whether a `\n` follows).
    static func countLineBreaks(in bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var lines = 0
        var position = 0
        while let lineBreak = firstLineBreak(in: base, from: position, to: bytes.count) {
            if endsLine(base, at: lineBreak, count: bytes.count, isEndOfInput: true) { lines += 1 }
            position = lineBreak + 1
        }
        return lines
    }

    /// True when `base[start..<end]` is a blank line's content: nothing, or the `\r` of a `\r\n`.
    @inline(__always)
    private static func isBlank(_ base: UnsafeRawPointer, _ start: Int, _ end: Int) -> Bool {
        end <= start || (end == start + 1 && base.load(fromByteOffset: start, as: UInt8.self) == 0x0D)
    }

    /// Whether the `\n` or `\r` at `index` ends a line: a `\n` always, a `\r` unless a `\n`
    /// follows (then that ends it). A `\r` that is the last of `count` bytes ends a line only
    /// `isEndOfInput`, since more bytes may bring its `\n`.
    @inline(__always)
    static func endsLine(_ base: UnsafeRawPointer, at index: Int, count: Int, isEndOfInput: Bool) -> Bool {
        if base.load(fromByteOffset: index, as: UInt8.self) == 0x0A { return true }
        if index + 1 == count { return isEndOfInput }
        return base.load(fromByteOffset: index + 1, as: UInt8.self) != 0x0A
    }

    /// Forgets everything: the next buffer starts a new input at a record boundary.
    package mutating func reset() {
        scannedCount = 0
        boundary = 0
        oddQuotes = false
        skipping = false
        skippedCarriageReturn = false
    }

    // MARK: - Byte scanning

    private static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// A word with the high bit set in exactly the bytes of `word` that equal the byte
    /// broadcast in `pattern`.
    @inline(__always)
    private static func matches(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return ~(((x & lowBits) &+ lowBits) | x | lowBits)
    }

    /// Whether an odd number of bytes in `base[from..<to]` equal `byte`.
    ///
    /// Only the parity matters for framing, and it needs no population count (which
    /// baseline x86-64 lacks as an instruction): the match words are XORed together and
    /// the result folded to one bit.
    @inline(__always)
    static func hasOddCount(of byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Bool {
        let pattern = UInt64(byte) &* ones
        var index = from
        var folded: UInt64 = 0
        while index + 32 <= to {
            let a = matches(base.loadUnaligned(fromByteOffset: index, as: UInt64.self), pattern)
            let b = matches(base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self), pattern)
            let c = matches(base.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self), pattern)
            let d = matches(base.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self), pattern)
            folded ^= (a ^ b) ^ (c ^ d)
            index += 32
        }
        while index + 8 <= to {
            folded ^= matches(base.loadUnaligned(fromByteOffset: index, as: UInt64.self), pattern)
            index += 8
        }
        var odd = false
        while index < to {
            if base.load(fromByteOffset: index, as: UInt8.self) == byte { odd.toggle() }
            index += 1
        }
        // Each match is one high bit; fold all 64 bits into bit 0.
        folded ^= folded >> 32
        folded ^= folded >> 16
        folded ^= folded >> 8
        return (folded >> 7) & 1 == 1 ? !odd : odd
    }

    /// How many bytes in `base[from..<to]` equal `byte`.
    @inline(__always)
    package static func count(_ byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int {
        let pattern = UInt64(byte) &* ones
        var index = from
        var total = 0
        while index + 32 <= to {
            let a = matches(base.loadUnaligned(fromByteOffset: index, as: UInt64.self), pattern)
            let b = matches(base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self), pattern)
            let c = matches(base.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self), pattern)
            let d = matches(base.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self), pattern)
            total &+= (a.nonzeroBitCount &+ b.nonzeroBitCount) &+ (c.nonzeroBitCount &+ d.nonzeroBitCount)
            index += 32
        }
        while index + 8 <= to {
            total &+= matches(base.loadUnaligned(fromByteOffset: index, as: UInt64.self), pattern).nonzeroBitCount
            index += 8
        }
        while index < to {
            if base.load(fromByteOffset: index, as: UInt8.self) == byte { total &+= 1 }
            index += 1
        }
        return total
    }

    /// The index of the last `\n` or `\r` in `base[from..<to]`, if any.
    @inline(__always)
    static func lastLineBreak(in base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        let lineFeeds = UInt64(0x0A) &* ones, carriageReturns = UInt64(0x0D) &* ones
        var end = to
        while end - 8 >= from {
            let word = base.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self)
            let found = matches(word, lineFeeds) | matches(word, carriageReturns)
            if found != 0 { return end - 8 + (63 - found.leadingZeroBitCount) / 8 }
            end -= 8
        }
        while end > from {
            end -= 1
            let byte = base.load(fromByteOffset: end, as: UInt8.self)
            if byte == 0x0A || byte == 0x0D { return end }
        }
        return nil
    }

    /// The index of the first `\n` or `\r` in `base[from..<to]`, if any.
    @inline(__always)
    static func firstLineBreak(in base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        let lineFeeds = UInt64(0x0A) &* ones, carriageReturns = UInt64(0x0D) &* ones
        var index = from
        while index + 8 <= to {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let found = matches(word, lineFeeds) | matches(word, carriageReturns)
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < to {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == 0x0A || byte == 0x0D { return index }
            index += 1
        }
        return nil
    }

    /// The index of the last byte equal to `byte` in `base[from..<to]`, if any.
    @inline(__always)
    package static func lastIndex(of byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        let pattern = UInt64(byte) &* ones
        var end = to
        while end - 8 >= from {
            let found = matches(base.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self), pattern)
            if found != 0 {
                // Little-endian: the highest set bit belongs to the last matching byte.
                return end - 8 + (63 - found.leadingZeroBitCount) / 8
            }
            end -= 8
        }
        while end > from {
            end -= 1
            if base.load(fromByteOffset: end, as: UInt8.self) == byte { return end }
        }
        return nil
    }

    /// The index of the first byte equal to `byte` in `base[from..<to]`, if any.
    @inline(__always)
    package static func firstIndex(of byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        let pattern = UInt64(byte) &* ones
        var index = from
        while index + 8 <= to {
            let found = matches(base.loadUnaligned(fromByteOffset: index, as: UInt64.self), pattern)
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < to {
            if base.load(fromByteOffset: index, as: UInt8.self) == byte { return index }
            index += 1
        }
        return nil
    }
}
