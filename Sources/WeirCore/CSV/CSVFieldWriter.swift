/// Writes field texts as CSV: quoting only where needed (or always), doubling quotes.
///
/// Minimal quoting quotes a field that holds the delimiter, the quote, `\r` or `\n`, or
/// that starts or ends with a space or tab (which many readers would trim). Every other
/// byte, UTF-8 included, is written as it is.
package struct CSVFieldWriter: Sendable {
    /// The delimiter and quote to write with.
    package let dialect: CSVDialect
    /// Quote every field, not only those that need it.
    package let quoteAll: Bool
    /// The line break after each row: `\n`, or `\r\n` with `crlf`.
    package let lineBreak: [UInt8]
    private let classes: QuoteTable
    private let delimiterPattern: UInt64
    private let quotePattern: UInt64
    private let lineFeeds = CSVByteScan.broadcast(0x0A)
    private let carriageReturns = CSVByteScan.broadcast(0x0D)

    /// A writer for `dialect`.
    package init(dialect: CSVDialect = .csv, quoteAll: Bool = false, crlf: Bool = false) {
        self.dialect = dialect
        self.quoteAll = quoteAll
        self.lineBreak = crlf ? [0x0D, 0x0A] : [0x0A]
        self.classes = QuoteTable(dialect)
        self.delimiterPattern = CSVByteScan.broadcast(dialect.delimiter)
        self.quotePattern = CSVByteScan.broadcast(dialect.quote)
    }

    /// Whether `bytes[start..<end]` must be quoted under minimal quoting.
    @inline(__always)
    func needsQuotes(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard end > start else { return false }
        let first = bytes[start], last = bytes[end - 1]
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        var index = start
        while index + 8 <= end {
            let word = CSVByteScan.load(bytes, index)
            let special = CSVByteScan.equal(word, delimiterPattern) | CSVByteScan.equal(word, quotePattern)
                | CSVByteScan.equal(word, lineFeeds) | CSVByteScan.equal(word, carriageReturns)
            if special != 0 { return true }
            index += 8
        }
        let table = classes.table
        while index < end {
            if table[Int(bytes[index])] != 0 { return true }
            index += 1
        }
        return false
    }

    /// Whether `bytes[start..<end]`, known to hold no delimiter, quote or line break, must
    /// be quoted for a leading or trailing space or tab.
    @inline(__always)
    func needsQuotesAtEnds(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard end > start else { return false }
        let first = bytes[start], last = bytes[end - 1]
        return first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09
    }

    /// Appends one field (without delimiter), quoted when needed or when `forceQuotes`.
    @inline(__always)
    package func appendField(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int, forceQuotes: Bool = false, into output: inout CSVByteBuffer) {
        appendField(bytes, start, end, quoted: forceQuotes || needsQuotes(bytes, start, end), into: &output)
    }

    /// Appends one field (without delimiter), quoted when `quoted` or ``quoteAll``.
    @inline(__always)
    package func appendField(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int, quoted: Bool, into output: inout CSVByteBuffer) {
        if !(quoteAll || quoted) {
            output.append(bytes + start, end - start)
            return
        }
        let quote = dialect.quote
        output.reserve(end - start + 2)
        output.appendReserved(quote)
        var runStart = start
        var index = start
        while index < end {
            if bytes[index] == quote {
                output.append(bytes + runStart, index + 1 - runStart)
                output.append(quote)
                runStart = index + 1
            }
            index += 1
        }
        output.append(bytes + runStart, end - runStart)
        output.append(quote)
    }

    /// Appends one field given as bytes.
    package func appendField(_ text: [UInt8], forceQuotes: Bool = false, into output: inout CSVByteBuffer) {
        text.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress {
                appendField(base, 0, buffer.count, forceQuotes: forceQuotes, into: &output)
            } else if quoteAll || forceQuotes {
                output.append(dialect.quote)
                output.append(dialect.quote)
            }
        }
    }

    /// Appends one field given as bytes to an array.
    package func appendField(_ text: [UInt8], forceQuotes: Bool = false, into output: inout [UInt8]) {
        var buffer = CSVByteBuffer(capacity: text.count + 16)
        appendField(text, forceQuotes: forceQuotes, into: &buffer)
        buffer.append(to: &output)
    }

    /// Appends a whole row of texts, delimiters and line break included.
    ///
    /// A row of one empty field is written as `""`, since an empty line would be read back
    /// as a blank line and skipped.
    package func appendRow(_ fields: [String], into output: inout CSVByteBuffer) {
        for (index, field) in fields.enumerated() {
            if index > 0 { output.append(dialect.delimiter) }
            appendField(Array(field.utf8), forceQuotes: fields.count == 1 && field.isEmpty, into: &output)
        }
        output.append(lineBreak)
    }

    /// Appends a whole row of texts to an array.
    package func appendRow(_ fields: [String], into output: inout [UInt8]) {
        var buffer = CSVByteBuffer(capacity: 256)
        appendRow(fields, into: &buffer)
        buffer.append(to: &output)
    }

    /// The bytes that force quoting, per dialect.
    private final class QuoteTable: @unchecked Sendable {
        let table: UnsafeMutablePointer<UInt8>
        init(_ dialect: CSVDialect) {
            table = .allocate(capacity: 256)
            table.initialize(repeating: 0, count: 256)
            table[0x0A] = 1
            table[0x0D] = 1
            table[Int(dialect.delimiter)] = 1
            table[Int(dialect.quote)] = 1
        }
        deinit { table.deallocate() }
    }
}
