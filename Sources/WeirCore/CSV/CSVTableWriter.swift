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
/// A column is the value at its dotted path, whatever that value is in a given record. So
/// an object under a column of its own name is written there whole, as compact JSON text
/// (`--columns user` on `{"user":{"id":1}}`), and its members are not new keys; a value
/// that changes shape between records is handled by what it became:
/// - an object where a scalar (or `null`, or `{}`) made the column: its JSON text there;
/// - `null` or `{}` where an object made columns (`user.id`, `user.name`): those fields
///   are empty, as for a missing key;
/// - a string, number, boolean or array where an object made columns: a key that is not a
///   column, so a new column of its name with `append`, nothing with `ignore`, and with
///   `error` a message saying what it was and what it is now.
///
/// Matching keys to columns is cheap in the common case where records share their key
/// order: each entry first tries the column the same entry matched in the previous record,
/// then a table of key hashes (no array is made of the key).
package struct CSVTableWriter: ~Copyable {
    /// The settings.
    package let options: CSVTableOptions
    /// The field writer (quoting and line breaks).
    let fieldWriter: CSVFieldWriter
    /// The current columns, in order.
    package private(set) var columns: [String] = []
    /// Whether the header row has been written.
    package private(set) var headerWritten = false
    /// Records written as rows.
    package private(set) var rowCount = 0

    /// Every column's key bytes back to back; column `c` is at `columnKeyOffsets[c]..<[c + 1]`.
    private var columnKeyBytes = CSVByteBuffer(capacity: 1024)
    private var columnKeyOffsets: [Int] = [0]
    /// Columns by the hash of their key; a column whose hash another already has (which
    /// practically never happens) is found in ``collidingColumns`` instead.
    private var columnsByHash: [Int: Int] = [:]
    private var collidingColumns: [[UInt8]: Int] = [:]
    /// Rules out most keys that are no column before they are hashed (on every record, each
    /// nested object's own entry is looked up, and usually is no column).
    private var columnFilter = KeyFilter()
    /// How many columns lie under each dotted prefix (`store` and `store.geo` for
    /// `store.geo.lat`): the keys whose value was an object that became columns.
    private var objectColumnCounts: [[UInt8]: Int] = [:]
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
        // Entries before this index belong to an object written whole into its own column.
        var coveredEnd = 0
        for index in 0..<entryCount {
            let entry = flattener.entries[index]
            let key = flattener.keys.base + entry.keyStart
            let keyLength = entry.keyEnd - entry.keyStart
            var column = previousMatches[index]
            if column < 0 || column >= columns.count || !columnKeyEquals(column, key, keyLength) {
                column = findColumn(key, keyLength)
            }
            if entry.memberCount > 0 {
                // A flattened object: whole in a column of its name, else only through its members.
                guard column >= 0 else { continue }
                flattener.materializeObject(index)
                coveredEnd = max(coveredEnd, index + 1 + entry.memberCount)
            } else if column < 0 {
                if index < coveredEnd { continue }
                if !firstRecord, options.newKeys != .ignore, objectColumnCounts[Array(UnsafeBufferPointer(start: key, count: keyLength))] != nil {
                    // The key was an object whose members are columns.
                    if entry.shape == .null || entry.shape == .object { continue }  // null or {}: those fields stay empty
                    if options.newKeys == .error {
                        let name = String(decoding: UnsafeBufferPointer(start: key, count: keyLength), as: UTF8.self)
                        failure = shapeChangeError(key: name, shape: entry.shape)
                        break
                    }
                }
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

    /// The message for a key whose value was an object, with columns under it, and here
    /// is a scalar or an array.
    private func shapeChangeError(key: String, shape: CSVRecordFlattener.Shape) -> JSONError {
        let prefix = key + "."
        let under = columns.filter { $0.hasPrefix(prefix) }
        var list = under.prefix(3).joined(separator: ", ")
        if under.count > 3 { list += " and \(under.count - 3) more" }
        let noun = under.count == 1 ? "column" : "columns"
        return JSONError(offset: 0, message: "key \(JSONWriter.string(.string(key))) was an object, with \(noun) \(list) in the header; here it is \(shape.description) (see --new-keys)")
    }

    /// The column whose key is `key[0..<length]`, or -1.
    @inline(__always)
    private func findColumn(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
        guard columnFilter.mayContain(key, length) else { return -1 }
        if let column = columnsByHash[Self.keyHash(key, length)], columnKeyEquals(column, key, length) { return column }
        if collidingColumns.isEmpty { return -1 }
        return collidingColumns[Array(UnsafeBufferPointer(start: key, count: length))] ?? -1
    }

    @inline(__always)
    private static func keyHash(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(start: key, count: length))
        return hasher.finalize()
    }

    /// Calls `body` with each dotted prefix of `key` (`a` and `a.b` for `a.b.c`).
    private static func forEachObjectPrefix(of key: [UInt8], _ body: ([UInt8]) -> Void) {
        for (index, byte) in key.enumerated() where byte == UInt8(ascii: ".") && index > 0 {
            body(Array(key[..<index]))
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
        columnKeyBytes.append(key)
        let hash = Self.keyHash(columnKeyBytes.base + columnKeyBytes.count - key.count, key.count)
        if columnsByHash[hash] == nil { columnsByHash[hash] = columns.count } else { collidingColumns[key] = columns.count }
        columnFilter.insert(columnKeyBytes.base + columnKeyBytes.count - key.count, key.count)
        Self.forEachObjectPrefix(of: key) { objectColumnCounts[$0, default: 0] += 1 }
        columnKeyOffsets.append(columnKeyBytes.count)
        columns.append(String(decoding: key, as: UTF8.self))
        slots.append(-1)
    }

    private mutating func removeLastColumn() {
        columnKeyOffsets.removeLast()
        let start = columnKeyOffsets[columnKeyOffsets.count - 1]
        let key = Array(UnsafeBufferPointer(start: columnKeyBytes.base + start, count: columnKeyBytes.count - start))
        let hash = Self.keyHash(columnKeyBytes.base + start, key.count)
        if columnsByHash[hash] == columns.count - 1 { columnsByHash[hash] = nil } else { collidingColumns[key] = nil }
        Self.forEachObjectPrefix(of: key) { prefix in
            objectColumnCounts[prefix, default: 0] -= 1
            if objectColumnCounts[prefix] == 0 { objectColumnCounts[prefix] = nil }
        }
        columnKeyBytes.truncate(to: start)
        columns.removeLast()
        slots.removeLast()
        // The column's bit stays set in `columnFilter`: that only costs a hash lookup now and then.
    }

    /// A set of 256 bits, one per fingerprint of a key (its length, first and last byte):
    /// a key whose bit is clear is surely not in the set; one whose bit is set may be.
    private struct KeyFilter {
        private var words = SIMD4<UInt64>(repeating: 0)

        @inline(__always)
        private static func fingerprint(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int {
            guard length > 0 else { return 0 }
            return (length &+ Int(key[0]) &* 7 &+ Int(key[length - 1]) &* 31) & 255
        }

        mutating func insert(_ key: UnsafePointer<UInt8>, _ length: Int) {
            let bit = Self.fingerprint(key, length)
            words[bit >> 6] |= 1 << UInt64(bit & 63)
        }

        @inline(__always)
        func mayContain(_ key: UnsafePointer<UInt8>, _ length: Int) -> Bool {
            let bit = Self.fingerprint(key, length)
            return words[bit >> 6] & (1 << UInt64(bit & 63)) != 0
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
