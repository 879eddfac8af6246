/// What to do with a key that is not a column yet, once the header is fixed.
package enum CSVNewKeysPolicy: String, Sendable, CaseIterable {
    /// The record is an error.
    case error
    /// The key's value is left out.
    case ignore
    /// A new column is added on the right; rows before it lack the field.
    case append
}

/// Settings for turning records into CSV rows.
package struct CSVTableOptions: Sendable {
    /// Delimiter and quote.
    package var dialect: CSVDialect = .csv
    /// Quote every field.
    package var quoteAll = false
    /// End rows with `\r\n`.
    package var crlf = false
    /// Write a header row.
    package var header = true
    /// Levels of nested objects flattened into dotted names (`Int.max`: all).
    package var flattenDepth = Int.max
    /// What keys that are not columns do.
    package var newKeys: CSVNewKeysPolicy = .error

    /// The defaults: RFC 4180 comma, minimal quoting, `\n`, a header, full flattening,
    /// new keys an error.
    package init() {}
}

extension CSVTableOptions {
    /// Reads `--columns a,store.city,…`: the names in order, each at most once.
    ///
    /// A name given twice is a mistake (a CSV header with two equal names is ambiguous to
    /// whoever reads it back), so it is refused rather than written as a second, empty column.
    package static func parseColumns(_ text: String) -> Result<[String], CSVUsageError> {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            return .failure(CSVUsageError("column \(JSONWriter.string(.string(name))) is named twice"))
        }
        return .success(names)
    }
}

/// Turns NDJSON records into CSV rows under one set of columns, sequentially.
///
/// The columns are given up front or taken from the first record's (flattened) keys. Each
/// record is flattened (``CSVRecordFlattener``) and its values placed under their columns;
/// a missing key or `null` leaves the field empty. A key that is not a column follows
/// ``CSVNewKeysPolicy``: with `append` the column is added on the right and reported by
/// ``write(_:into:)``, so the caller can say that the header already written lacks it
/// (or rewrite the file when it can).
///
/// Matching keys to columns is cheap in the common case where records share their key
/// order: each entry first tries the column the same entry matched in the previous record.
package struct CSVTableWriter: ~Copyable {
    /// The settings.
    package let options: CSVTableOptions
    /// The field writer (quoting and line breaks).
    package let fieldWriter: CSVFieldWriter
    /// The current columns, in order.
    package private(set) var columns: [String] = []
    /// Whether the header row has been written.
    package private(set) var headerWritten = false
    /// Records written as rows.
    package private(set) var rowCount = 0

    /// Every column's key bytes back to back; column `c` is at `columnKeyOffsets[c]..<[c + 1]`.
    private var columnKeyBytes = CSVByteBuffer(capacity: 1024)
    private var columnKeyOffsets: [Int] = [0]
    private var columnLookup: [[UInt8]: Int] = [:]
    private var columnsKnown = false
    private var previousMatches: [Int] = []
    private var slots: [Int] = []
    private var flattener: CSVRecordFlattener

    /// A writer with `columns` fixed up front, or taken from the first record when `nil`.
    package init(columns: [String]?, options: CSVTableOptions) {
        self.options = options
        self.fieldWriter = CSVFieldWriter(dialect: options.dialect, quoteAll: options.quoteAll, crlf: options.crlf)
        self.flattener = CSVRecordFlattener(maxDepth: options.flattenDepth, dialect: options.dialect)
        if let columns {
            for column in columns { addColumn(Array(column.utf8)) }
            columnsKnown = true
        }
    }

    /// The header row for the current columns.
    package func headerRow() -> [UInt8] {
        var output: [UInt8] = []
        fieldWriter.appendRow(columns, into: &output)
        return output
    }

    /// Appends the header (if due) and the row for one record; returns the columns this
    /// record added (with ``CSVNewKeysPolicy/append`` after the first record), in order.
    ///
    /// On error nothing is appended and the columns are unchanged.
    package mutating func write(_ record: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(JSONError) -> [String] {
        var buffer = CSVByteBuffer(capacity: 1024)
        let added = try write(record, into: &buffer)
        buffer.append(to: &output)
        return added
    }

    /// Appends the header (if due) and the row for one record; returns the columns this
    /// record added (with ``CSVNewKeysPolicy/append`` after the first record), in order.
    ///
    /// On error nothing is appended and the columns are unchanged.
    package mutating func write(_ record: UnsafeRawBufferPointer, into output: inout CSVByteBuffer) throws(JSONError) -> [String] {
        try flattener.flatten(record)
        var added: [String] = []
        let entryCount = flattener.entries.count
        if previousMatches.count < entryCount {
            previousMatches.append(contentsOf: repeatElement(-1, count: entryCount - previousMatches.count))
        }
        let firstRecord = !columnsKnown
        let columnsBefore = columns.count
        var failure: JSONError? = nil
        let keyBase = flattener.keys.base
        for index in 0..<entryCount {
            let entry = flattener.entries[index]
            let key = keyBase + entry.keyStart
            let keyLength = entry.keyEnd - entry.keyStart
            var column = previousMatches[index]
            if column < 0 || column >= columns.count || !columnKeyEquals(column, key, keyLength) {
                column = columnLookup[Array(UnsafeBufferPointer(start: key, count: keyLength))] ?? -1
            }
            if column < 0 {
                if firstRecord || options.newKeys == .append {
                    addColumn(Array(UnsafeBufferPointer(start: key, count: keyLength)))
                    column = columns.count - 1
                    if !firstRecord { added.append(columns[column]) }
                } else if options.newKeys == .ignore {
                    continue
                } else {
                    let name = String(decoding: UnsafeBufferPointer(start: key, count: keyLength), as: UTF8.self)
                    failure = JSONError(offset: 0, message: "key \(JSONWriter.string(.string(name))) is not a column (the columns come from --columns or the first record; see --new-keys)")
                    break
                }
            }
            if slots[column] >= 0 {
                failure = JSONError(offset: 0, message: "two values for column \(JSONWriter.string(.string(columns[column]))) (a repeated key, or a dotted key that collides with a nested one)")
                break
            }
            slots[column] = index
            previousMatches[index] = column
        }
        if let failure {
            // Undo: forget the columns this record added and clear the slots.
            while columns.count > columnsBefore { removeLastColumn() }
            for index in slots.indices { slots[index] = -1 }
            throw failure
        }
        columnsKnown = true
        if options.header && !headerWritten {
            fieldWriter.appendRow(columns, into: &output)
            headerWritten = true
        }
        writeRow(into: &output)
        rowCount += 1
        return added
    }

    /// Appends the header row if it is due and was never written (columns given, no records).
    package mutating func finish(into output: inout [UInt8]) {
        if options.header && !headerWritten && columnsKnown && !columns.isEmpty {
            fieldWriter.appendRow(columns, into: &output)
            headerWritten = true
        }
    }

    @inline(__always)
    private func columnKeyEquals(_ column: Int, _ key: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        let start = columnKeyOffsets[column]
        guard columnKeyOffsets[column + 1] - start == length else { return false }
        let columnKey = columnKeyBytes.base + start
        if length <= 16 && length >= 8 {
            return CSVByteScan.load(columnKey, 0) == CSVByteScan.load(key, 0)
                && CSVByteScan.load(columnKey, length - 8) == CSVByteScan.load(key, length - 8)
        }
        return memcmp(columnKey, key, length) == 0
    }

    private mutating func writeRow(into output: inout CSVByteBuffer) {
        let delimiter = options.dialect.delimiter
        let quote = options.dialect.quote
        let columnCount = columns.count
        let emptyNeedsQuotes = columnCount == 1 || options.quoteAll
        let base = flattener.values.base
        for column in 0..<columnCount {
            if column > 0 { output.append(delimiter) }
            let slot = slots[column]
            if slot >= 0 {
                slots[column] = -1
                let entry = flattener.entries[slot]
                if !entry.isNull && entry.valueStart != entry.valueEnd {
                    let quote: Bool
                    switch entry.quoting {
                    case .needed: quote = true
                    case .byEnds: quote = fieldWriter.needsQuotesAtEnds(base, entry.valueStart, entry.valueEnd)
                    case .unknown: quote = fieldWriter.needsQuotes(base, entry.valueStart, entry.valueEnd)
                    }
                    fieldWriter.appendField(base, entry.valueStart, entry.valueEnd, quoted: quote, into: &output)
                    continue
                }
            }
            if emptyNeedsQuotes {
                output.append(quote)
                output.append(quote)
            }
        }
        output.append(fieldWriter.lineBreak)
    }

    private mutating func addColumn(_ key: [UInt8]) {
        columnLookup[key] = columns.count
        columnKeyBytes.append(key)
        columnKeyOffsets.append(columnKeyBytes.count)
        columns.append(String(decoding: key, as: UTF8.self))
        slots.append(-1)
    }

    private mutating func removeLastColumn() {
        columnKeyOffsets.removeLast()
        let start = columnKeyOffsets[columnKeyOffsets.count - 1]
        columnLookup[Array(UnsafeBufferPointer(start: columnKeyBytes.base + start, count: columnKeyBytes.count - start))] = nil
        columnKeyBytes.truncate(to: start)
        columns.removeLast()
        slots.removeLast()
    }
}

#if canImport(Glibc)
import Glibc
#endif
