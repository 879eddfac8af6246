/// Flattens one NDJSON record into `(dotted key, text)` pairs for a CSV row, scanning
/// the JSON bytes directly.
///
/// Nested objects become dotted names (`store.geo.lat`) down to ``maxDepth`` levels;
/// arrays, objects deeper than that and empty objects are written as compact JSON text.
/// A nested object that is flattened also gets an entry of its own, before its members'
/// (``Entry/memberCount``), so that a column named after it can hold it whole; its text
/// is only made when asked for (``materializeObject(_:)``).
/// Strings are unescaped to their UTF-8 text, numbers keep their literal, booleans are
/// `true`/`false` and `null` is marked so the writer leaves the field empty. Values kept as
/// text are checked by the shared grammar (``JSONScan``, ``JSONValidator``), and any error is
/// reported as ``JSONCompactor/validate(_:maxDepth:)`` reports it (weir-cat's message and
/// offset): a malformed record is reported, never half-written, and invalid JSON is reported
/// as such before a valid non-object is reported as needing an object. A lone `\u`
/// surrogate becomes U+FFFD as it does in ``JSONParser``.
///
/// Entries are written into reusable buffers: ``keys`` and ``values`` hold the bytes back
/// to back and ``entries`` their ranges, so flattening a record allocates nothing once the
/// buffers have grown.
package struct CSVRecordFlattener: ~Copyable {
    /// One flattened value: where its key and text lie in ``keys`` and ``values``.
    package struct Entry: Sendable, Equatable {
        /// Range of the dotted key in ``CSVRecordFlattener/keys``.
        var keyStart: Int, keyEnd: Int
        /// Range of the text in ``CSVRecordFlattener/values`` (in the record instead while
        /// ``textInRecord``).
        var valueStart: Int, valueEnd: Int
        /// The kind of JSON value.
        package var shape: Shape
        /// What decoding learnt about quoting the text in CSV.
        package var quoting: Quoting = .unknown
        /// For a nested object whose members follow as entries of their own: how many
        /// entries they are (nested members included). 0 for every other value.
        package var memberCount = 0
        /// True while the text of a flattened object is only in the record
        /// (``CSVRecordFlattener/materializeObject(_:)`` copies it to the values).
        var textInRecord = false

        /// True for a JSON `null` (an empty field that is not an empty string).
        package var isNull: Bool { shape == .null }
    }

    /// The kind of a JSON value, for messages about a key whose value changed kind.
    package enum Shape: UInt8, Sendable {
        case string, number, boolean, null, array, object

        /// `a string`, `an object`, … .
        package var description: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .boolean: "a boolean"
            case .null: "null"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    /// Whether a value's CSV field needs quotes, as far as flattening found out.
    package enum Quoting: UInt8, Sendable {
        /// Not known: the writer scans the text.
        case unknown
        /// It holds the delimiter, the quote or a line break: quote it.
        case needed
        /// Only a leading or trailing space or tab would make it need quotes.
        case byEnds
    }

    /// Objects nested deeper than this many levels below the record are kept as JSON text.
    package let maxDepth: Int
    /// The CSV delimiter and quote, watched for while strings are decoded.
    private let delimiter: UInt8, csvQuote: UInt8
    /// The key bytes of the last record's entries.
    package private(set) var keys = CSVByteBuffer(capacity: 1024)
    /// The value texts of the last record's entries.
    package private(set) var values = CSVByteBuffer(capacity: 4096)
    /// The last record's entries in order of appearance.
    package private(set) var entries: [Entry] = []

    private var bytes: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    private var count = 0
    private var position = 0
    private var depth = 0
    /// Bytes of the dotted prefix currently open (`store.geo.`).
    private var prefix = CSVByteBuffer(capacity: 256)

    private static let nestingLimit = JSONParser.defaultMaxDepth

    /// A flattener that flattens `maxDepth` levels of nested objects (`Int.max`: all).
    package init(maxDepth: Int = .max, dialect: CSVDialect = .csv) {
        self.maxDepth = maxDepth
        self.delimiter = dialect.delimiter
        self.csvQuote = dialect.quote
    }

    /// The key of `entry` as a `String`.
    package func key(_ entry: Entry) -> String {
        String(decoding: UnsafeBufferPointer(start: keys.base + entry.keyStart, count: entry.keyEnd - entry.keyStart), as: UTF8.self)
    }

    /// The text of `entry` as a `String`.
    package func value(_ entry: Entry) -> String {
        String(decoding: UnsafeBufferPointer(start: values.base + entry.valueStart, count: entry.valueEnd - entry.valueStart), as: UTF8.self)
    }

    /// Flattens one record (a JSON object, surrounding whitespace allowed).
    ///
    /// On any error the record is validated again by ``JSONCompactor/validate(_:maxDepth:)``,
    /// so that invalid JSON gets exactly the shared message and offset (the fast path stays a
    /// single pass); only a valid record that is not an object keeps the flattener's own error.
    package mutating func flatten(_ record: UnsafeRawBufferPointer) throws(JSONError) {
        do throws(JSONError) {
            try flattenRecord(record)
        } catch {
            try JSONCompactor.validate(record, maxDepth: Self.nestingLimit)
            throw error
        }
    }

    /// ``flatten(_:)`` without the second look at errors.
    private mutating func flattenRecord(_ record: UnsafeRawBufferPointer) throws(JSONError) {
        keys.removeAll()
        values.removeAll()
        entries.removeAll(keepingCapacity: true)
        prefix.removeAll()
        bytes = JSONScan.base(of: record)
        count = record.count
        position = 0
        depth = 0
        skipWhitespace()
        guard position < count, bytes[position] == UInt8(ascii: "{") else {
            if position >= count { throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedValue) }
            throw error("a CSV row needs a JSON object, found \(describeValueStart(bytes[position]))")
        }
        try flattenObject(level: 0)
        skipWhitespace()
        if position < count { throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedEnd) }
    }

    // MARK: - Objects that are flattened

    /// Flattens the object at `position` whose keys get the current prefix.
    private mutating func flattenObject(level: Int) throws(JSONError) {
        let objectStart = position
        try enter()
        position += 1
        skipWhitespace()
        if position < count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            if level > 0 {
                // An empty nested object has no keys to become columns: keep it as `{}`.
                let keyStart = appendKey(droppingDot: true)
                let valueStart = values.count
                values.append(0x7B)
                values.append(0x7D)
                entries.append(Entry(keyStart: keyStart, keyEnd: keys.count, valueStart: valueStart, valueEnd: values.count, shape: .object))
            }
            return
        }
        // A nested object's own entry comes before its members; its range and count are set at its end.
        var objectEntry = -1
        if level > 0 {
            objectEntry = entries.count
            let keyStart = appendKey(droppingDot: true)
            entries.append(Entry(keyStart: keyStart, keyEnd: keys.count, valueStart: objectStart, valueEnd: objectStart,
                                 shape: .object, textInRecord: true))
        }
        while true {
            guard position < count, bytes[position] == UInt8(ascii: "\"") else {
                throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedKey)
            }
            let prefixLength = prefix.count
            // Decoded into the value buffer, then moved to the prefix.
            let mark = values.count
            _ = try decodeString()
            prefix.append(values.base + mark, values.count - mark)
            values.truncate(to: mark)
            skipWhitespace()
            guard position < count, bytes[position] == UInt8(ascii: ":") else {
                throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedColon)
            }
            position += 1
            skipWhitespace()
            guard position < count else { throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedValue) }
            try flattenValue(level: level)
            prefix.truncate(to: prefixLength)
            skipWhitespace()
            guard position < count else {
                throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedObjectContinuation)
            }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if byte == UInt8(ascii: "}") { break }
            position -= 1
            throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedObjectContinuation)
        }
        depth -= 1
        if objectEntry >= 0 {
            entries[objectEntry].valueEnd = position
            entries[objectEntry].memberCount = entries.count - objectEntry - 1
        }
    }

    /// Adds the value at `position` under the key in `prefix`.
    private mutating func flattenValue(level: Int) throws(JSONError) {
        let first = bytes[position]
        switch first {
        case UInt8(ascii: "\""):
            let keyStart = keys.count
            keys.append(prefix.base, prefix.count)
            let valueStart = values.count
            let needsQuotes = try decodeString()
            entries.append(Entry(keyStart: keyStart, keyEnd: keys.count, valueStart: valueStart, valueEnd: values.count, shape: .string,
                                 quoting: needsQuotes ? .needed : .byEnds))
        case UInt8(ascii: "{") where level < maxDepth:
            prefix.append(UInt8(ascii: "."))
            try flattenObject(level: level + 1)
            prefix.truncate(to: prefix.count - 1)
        case UInt8(ascii: "n"):
            try JSONScan.scanLiteral(bytes, count, &position, "null")
            let keyStart = appendKey(droppingDot: false)
            entries.append(Entry(keyStart: keyStart, keyEnd: keys.count, valueStart: values.count, valueEnd: values.count, shape: .null))
        default:
            // Numbers, booleans, arrays and objects beyond the depth: their compact JSON text.
            let start = position
            let shape: Shape
            switch first {
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try JSONScan.scanNumber(bytes, count, &position)
                shape = .number
            case UInt8(ascii: "t"):
                try JSONScan.scanLiteral(bytes, count, &position, "true")
                shape = .boolean
            case UInt8(ascii: "f"):
                try JSONScan.scanLiteral(bytes, count, &position, "false")
                shape = .boolean
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                var validator = JSONValidator(base: bytes, count: count, position: position, maxDepth: Self.nestingLimit)
                try validator.scanValue(startDepth: depth)
                position = validator.position
                shape = first == UInt8(ascii: "[") ? .array : .object
            default:
                throw JSONScan.unexpected(bytes, count, position, expected: JSONScan.expectedValue)
            }
            let keyStart = appendKey(droppingDot: false)
            let valueStart = values.count
            if shape == .array || shape == .object {
                appendCompact(start, position)
            } else {
                values.append(bytes + start, position - start)
            }
            entries.append(Entry(keyStart: keyStart, keyEnd: keys.count, valueStart: valueStart, valueEnd: values.count, shape: shape))
        }
    }

    /// Makes the compact JSON text of the flattened object at `entries[index]` its value
    /// (for a column named after the object). Only valid until the next ``flatten(_:)``,
    /// while the record's bytes are still there.
    package mutating func materializeObject(_ index: Int) {
        let entry = entries[index]
        guard entry.textInRecord else { return }
        let valueStart = values.count
        appendCompact(entry.valueStart, entry.valueEnd)
        entries[index].valueStart = valueStart
        entries[index].valueEnd = values.count
        entries[index].textInRecord = false
    }

    /// Appends the current prefix to ``keys`` (without its final dot when asked); returns where it starts.
    @inline(__always)
    private mutating func appendKey(droppingDot: Bool) -> Int {
        let keyStart = keys.count
        keys.append(prefix.base, prefix.count)
        if droppingDot, keys.count > keyStart, keys.base[keys.count - 1] == UInt8(ascii: ".") { keys.truncate(to: keys.count - 1) }
        return keyStart
    }

    /// Appends `bytes[start..<end]` (valid JSON) to ``values`` without whitespace outside
    /// strings; runs between whitespace are copied whole.
    private mutating func appendCompact(_ start: Int, _ end: Int) {
        var runStart = start
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                // Inside a string: to the closing quote, stepping over escaped characters.
                index += 1
                while index < end {
                    let inner = bytes[index]
                    if inner == UInt8(ascii: "\"") { break }
                    index += inner == UInt8(ascii: "\\") ? 2 : 1
                }
            } else if byte <= 0x20 {  // valid JSON has only space, tab, CR and LF here
                if index > runStart { values.append(bytes + runStart, index - runStart) }
                runStart = index + 1
            }
            index += 1
        }
        if end > runStart { values.append(bytes + runStart, end - runStart) }
    }

    // MARK: - Strings

    /// Decodes the string at `position` (its opening quote) and appends its UTF-8 text to
    /// ``values``; returns true when the text holds the delimiter, the quote or a line break.
    /// An invalid string is reported by ``JSONScan/scanString(_:_:_:)``.
    private mutating func decodeString() throws(JSONError) -> Bool {
        let start = position
        position += 1
        var runStart = position
        var needsQuotes = false
        let quotes = CSVByteScan.broadcast(0x22), backslashes = CSVByteScan.broadcast(0x5C)
        let delimiters = CSVByteScan.broadcast(delimiter), csvQuotes = CSVByteScan.broadcast(csvQuote)
        while position < count {
            // Skip plain ASCII eight bytes at a time.
            while position + 8 <= count {
                let word = CSVByteScan.load(bytes, position)
                let special = CSVByteScan.nonASCII(word) | CSVByteScan.control(word)
                    | CSVByteScan.equal(word, quotes) | CSVByteScan.equal(word, backslashes)
                    | CSVByteScan.equal(word, delimiters) | CSVByteScan.equal(word, csvQuotes)
                if special != 0 {
                    position += CSVByteScan.firstFlagged(special)
                    break
                }
                position += 8
            }
            guard position < count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                values.append(bytes + runStart, position - runStart)
                position += 1
                return needsQuotes
            }
            if byte == UInt8(ascii: "\\") {
                values.append(bytes + runStart, position - runStart)
                var decoded: UInt64 = 0
                let length = decodeEscape(into: &decoded)
                if length == 0 { throw stringError(start) }
                if length == 1 {
                    let unit = UInt8(truncatingIfNeeded: decoded)
                    if unit == 0x0A || unit == 0x0D || unit == delimiter || unit == csvQuote { needsQuotes = true }
                }
                withUnsafeBytes(of: &decoded) { values.append($0.baseAddress!.assumingMemoryBound(to: UInt8.self), length) }
                runStart = position
            } else if byte < 0x20 {
                throw stringError(start)
            } else if byte < 0x80 {
                if byte == delimiter || byte == csvQuote { needsQuotes = true }
                position += 1
            } else {
                let length = UTF8Validation.sequenceLength(bytes, count, at: position)
                if length == 0 { throw stringError(start) }
                position += length
            }
        }
        throw stringError(start)
    }

    /// The shared scanner's error for the invalid string whose opening quote is at `start`.
    private func stringError(_ start: Int) -> JSONError {
        var index = start
        do throws(JSONError) {
            _ = try JSONScan.scanString(bytes, count, &index)
        } catch {
            return error
        }
        return JSONError(offset: start, message: "invalid string")  // not reached: the decoder and the scanner agree
    }

    /// Decodes the escape at `position` (its backslash) into up to 4 UTF-8 bytes in
    /// `scratch`; returns how many, or 0 for an invalid escape.
    private mutating func decodeEscape(into scratch: inout UInt64) -> Int {
        position += 1
        guard position < count else { return 0 }
        let byte = bytes[position]
        position += 1
        let simple: UInt8
        switch byte {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            guard var scalar = parseHex4() else { return 0 }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                if position + 1 < count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                    let save = position
                    position += 2
                    guard let low = parseHex4() else { return 0 }
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = save
                        scalar = 0xFFFD
                    }
                } else {
                    scalar = 0xFFFD
                }
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                scalar = 0xFFFD
            }
            let value = UInt64(scalar)
            switch scalar {
            case 0..<0x80:
                scratch = value
                return 1
            case 0x80..<0x800:
                scratch = (0xC0 | value >> 6) | (0x80 | value & 0x3F) << 8
                return 2
            case 0x800..<0x10000:
                scratch = (0xE0 | value >> 12) | (0x80 | value >> 6 & 0x3F) << 8 | (0x80 | value & 0x3F) << 16
                return 3
            default:
                scratch = (0xF0 | value >> 18) | (0x80 | value >> 12 & 0x3F) << 8 | (0x80 | value >> 6 & 0x3F) << 16 | (0x80 | value & 0x3F) << 24
                return 4
            }
        default:
            return 0
        }
        scratch = UInt64(simple)
        return 1
    }

    /// Reads four hex digits at `position`, or nil.
    private mutating func parseHex4() -> UInt32? {
        guard position + 4 <= count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit = JSONScan.hexValue(bytes[position])
            if digit >= 16 { return nil }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    // MARK: - Small pieces

    private mutating func enter() throws(JSONError) {
        depth += 1
        if depth > Self.nestingLimit { throw JSONScan.tooDeep(position, maxDepth: Self.nestingLimit) }
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private func describeValueStart(_ byte: UInt8) -> String {
        func startsWith(_ word: StaticString) -> Bool {
            guard position + word.utf8CodeUnitCount <= count else { return false }
            return (0..<word.utf8CodeUnitCount).allSatisfy { bytes[position + $0] == word.utf8Start[$0] }
        }
        switch byte {
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t") where startsWith("true"), UInt8(ascii: "f") where startsWith("false"): return "a boolean"
        case UInt8(ascii: "n") where startsWith("null"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return describeByte(byte)
        }
    }

    private func error(_ message: String) -> JSONError {
        JSONError(offset: position, message: message)
    }
}
