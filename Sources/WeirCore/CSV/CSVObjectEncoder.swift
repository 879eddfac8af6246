/// Writes tokenized CSV records as compact JSON objects, one line each, straight into an
/// output byte buffer.
///
/// Keys are escaped once per header; a field's bytes are copied as they are unless they
/// need JSON escapes or unquoting. A field becomes a number only when its bytes already
/// spell a JSON number (``CSVNumberSyntax/isJSONNumber(_:_:_:separator:)``), and then its
/// literal text is written, so `13911860366432393` and `1.10` come out byte for byte while
/// `00742`, `+5`, `1.`, `0x1F` and ` 5` stay strings. Declared column types, the empty
/// field policy, ragged rows and provenance keys follow ``CSVConversionOptions``.
///
/// A record that cannot be written (ragged row, a value that does not fit its declared
/// type) throws ``CSVError`` and leaves `output` as it was.
package struct CSVObjectEncoder {
    /// The column names.
    package let header: CSVHeader
    /// The conversion settings.
    package let options: CSVConversionOptions
    private let quote: UInt8
    private let columnTypes: [CSVColumnType]
    private let allAuto: Bool
    private let keys: KeyTable
    /// `,"file":"name"`, when the file name is wanted.
    private var filenameEntry: [UInt8] = []
    /// `,"row":`, when the row number is wanted.
    private let rowEntry: [UInt8]
    /// `,"4":` and so on for fields beyond the header (``CSVRaggedPolicy/pad``).
    private var extraKeys: [[UInt8]] = []

    /// An encoder for records under `header`, read with `dialect`.
    package init(header: CSVHeader, options: CSVConversionOptions, dialect: CSVDialect, filename: String? = nil) {
        self.header = header
        self.options = options
        self.quote = dialect.quote
        let types = header.names.map { options.declaredTypes[$0] ?? .auto }
        self.columnTypes = types
        self.allAuto = types.allSatisfy { $0 == .auto }
        keys = KeyTable(header.packedKeys)
        if let rowKey = options.rowKey {
            var entry: [UInt8] = [UInt8(ascii: ",")]
            JSONWriter.writeString(rowKey, into: &entry)
            entry.append(UInt8(ascii: ":"))
            rowEntry = entry
        } else {
            rowEntry = []
        }
        setFilename(filename ?? "")
    }

    /// The declared column names that the header lacks (worth a warning: probably a typo).
    var undeclaredTypeNames: [String] {
        options.declaredTypes.keys.filter { !header.names.contains($0) }.sorted()
    }

    /// Sets the file name written under ``CSVConversionOptions/filenameKey``.
    mutating func setFilename(_ filename: String) {
        guard let key = options.filenameKey else { return }
        var entry: [UInt8] = [UInt8(ascii: ",")]
        JSONWriter.writeString(key, into: &entry)
        entry.append(UInt8(ascii: ":"))
        JSONWriter.writeString(filename, into: &entry)
        filenameEntry = entry
    }

    /// Appends the current record of `tokenizer` as one JSON object and a line feed.
    package mutating func encode(_ tokenizer: CSVTokenizer, into output: inout [UInt8]) throws(CSVError) {
        var buffer = CSVByteBuffer(capacity: 256)
        try encode(tokenizer, into: &buffer)
        buffer.append(to: &output)
    }

    /// Appends the current record of `tokenizer` as one JSON object and a line feed.
    package mutating func encode(_ tokenizer: CSVTokenizer, into output: inout CSVByteBuffer) throws(CSVError) {
        let fields = tokenizer.fields
        let fieldCount = fields.count
        let columnCount = header.count
        if fieldCount != columnCount {
            if options.ragged == .error {
                let offset = fieldCount > columnCount ? fields[columnCount].start - (fields[columnCount].isQuoted ? 1 : 0) : tokenizer.recordEnd
                let (line, column) = tokenizer.location(of: min(offset, tokenizer.recordStart + tokenizer.recordText.count))
                let hint = "use --ragged pad or --ragged truncate to accept such rows"
                throw CSVError("the row has \(fieldCount) field\(fieldCount == 1 ? "" : "s") but the header has \(columnCount) (\(hint))",
                               line: line, column: column, row: tokenizer.row,
                               field: fieldCount > columnCount ? columnCount + 1 : 0)
            }
            if options.ragged == .pad, fieldCount > columnCount { prepareExtraKeys(fieldCount) }
        }
        guard let base = tokenizer.chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let mark = output.count
        output.append(UInt8(ascii: "{"))
        var first = true
        let written = min(fieldCount, columnCount)
        let keys = self.keys
        do throws(CSVError) {
            for index in 0..<written {
                let keyStart = keys.offsets[index] + (first ? 1 : 0)
                let key = UnsafeBufferPointer(start: keys.bytes + keyStart, count: keys.offsets[index + 1] - keyStart)
                let type = allAuto ? .auto : columnTypes[index]
                if try appendEntry(fields[index], type: type, key: key, base: base, tokenizer: tokenizer, column: index, into: &output) {
                    first = false
                }
            }
            if fieldCount < columnCount {
                for index in fieldCount..<columnCount {
                    let keyStart = keys.offsets[index] + (first ? 1 : 0)
                    let key = UnsafeBufferPointer(start: keys.bytes + keyStart, count: keys.offsets[index + 1] - keyStart)
                    if appendEmpty(key: key, into: &output) { first = false }
                }
            } else if fieldCount > columnCount, options.ragged == .pad {
                for index in columnCount..<fieldCount {
                    let extra = extraKeys[index - columnCount]
                    try extra.withUnsafeBufferPointer { (extraKey) throws(CSVError) in
                        let key = UnsafeBufferPointer(rebasing: extraKey[(first ? 1 : 0)...])
                        if try appendEntry(fields[index], type: .auto, key: key, base: base, tokenizer: tokenizer, column: index, into: &output) {
                            first = false
                        }
                    }
                }
            }
        } catch {
            output.truncate(to: mark)
            throw error
        }
        if !filenameEntry.isEmpty {
            filenameEntry.withUnsafeBufferPointer { entry in
                output.append(entry.baseAddress! + (first ? 1 : 0), entry.count - (first ? 1 : 0))
            }
            first = false
        }
        if !rowEntry.isEmpty {
            rowEntry.withUnsafeBufferPointer { entry in
                output.append(entry.baseAddress! + (first ? 1 : 0), entry.count - (first ? 1 : 0))
            }
            Self.appendDecimal(tokenizer.row, into: &output)
        }
        output.reserve(2)
        output.appendReserved(UInt8(ascii: "}"))
        output.appendReserved(0x0A)
    }

    /// The header's `,"name":` keys in one block with their offsets, at stable addresses.
    private final class KeyTable: @unchecked Sendable {
        let bytes: UnsafeMutablePointer<UInt8>
        let offsets: UnsafeMutablePointer<Int>

        init(_ packed: (bytes: [UInt8], offsets: [Int])) {
            bytes = .allocate(capacity: max(packed.bytes.count, 1))
            bytes.initialize(from: packed.bytes, count: packed.bytes.count)
            offsets = .allocate(capacity: packed.offsets.count)
            offsets.initialize(from: packed.offsets, count: packed.offsets.count)
        }

        deinit {
            bytes.deallocate()
            offsets.deallocate()
        }
    }

    private mutating func prepareExtraKeys(_ fieldCount: Int) {
        while header.count + extraKeys.count < fieldCount {
            var entry: [UInt8] = [UInt8(ascii: ",")]
            JSONWriter.writeString(header.extraName(header.count + extraKeys.count), into: &entry)
            entry.append(UInt8(ascii: ":"))
            extraKeys.append(entry)
        }
    }

    /// Appends `key` and the empty field's value; false when the policy omits it.
    @inline(__always)
    private func appendEmpty(key: UnsafeBufferPointer<UInt8>, into output: inout CSVByteBuffer) -> Bool {
        switch options.empty {
        case .omit:
            return false
        case .string:
            output.reserve(key.count + 2)
            output.appendReserved(key.baseAddress!, key.count)
            output.appendReserved(0x22)
            output.appendReserved(0x22)
        case .null:
            output.reserve(key.count + 4)
            output.appendReserved(key.baseAddress!, key.count)
            output.appendReserved(0x6E)
            output.appendReserved(0x75)
            output.appendReserved(0x6C)
            output.appendReserved(0x6C)
        }
        return true
    }

    /// Appends `key` and the field's value; false when nothing was written (omitted empty).
    @inline(__always)
    private func appendEntry(_ field: CSVField, type: CSVColumnType, key: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>,
                             tokenizer: CSVTokenizer, column: Int, into output: inout CSVByteBuffer) throws(CSVError) -> Bool {
        let start = field.start, end = field.end
        if start == end { return appendEmpty(key: key, into: &output) }
        let length = end - start
        switch type {
        case .auto:
            output.reserve(key.count + length + 2)
            output.appendReserved(key.baseAddress!, key.count)
            if options.inference != .none, field.flags & CSVField.needsEscapeFlag == 0 {
                let first = base[start]
                if first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 {
                    if !options.decimalComma {
                        if CSVNumberSyntax.isJSONNumber(base, start, end) {
                            output.appendReserved(base + start, length)
                            return true
                        }
                    } else if CSVNumberSyntax.isJSONNumber(base, start, end, separator: UInt8(ascii: ",")) {
                        for index in start..<end {
                            output.appendReserved(base[index] == UInt8(ascii: ",") ? UInt8(ascii: ".") : base[index])
                        }
                        return true
                    }
                } else if options.inference == .all, Self.isBooleanLiteral(base, start, end) {
                    output.appendReserved(base + start, length)
                    return true
                }
            }
            appendString(field, base: base, into: &output)
        case .string:
            output.append(key.baseAddress!, key.count)
            appendString(field, base: base, into: &output)
        case .number:
            let text = field.unquotedBytes(in: tokenizer.chunk, quote: quote)
            guard let number = CSVNumberSyntax.normalizedNumber(text, decimalComma: options.decimalComma) else {
                throw typeError("is not a number", field: field, tokenizer: tokenizer, column: column, text: text)
            }
            output.append(key.baseAddress!, key.count)
            output.append(number)
        case .bool:
            let text = field.unquotedBytes(in: tokenizer.chunk, quote: quote)
            guard let value = CSVNumberSyntax.boolean(text) else {
                throw typeError("is not a boolean (true/false, yes/no, 1/0)", field: field, tokenizer: tokenizer, column: column, text: text)
            }
            output.append(key.baseAddress!, key.count)
            output.append(value ? "true" : "false")
        case .json:
            let text = field.unquotedBytes(in: tokenizer.chunk, quote: quote)
            let value: JSONValue
            do throws(JSONError) {
                value = try JSONParser.parse(text)
            } catch {
                throw typeError("is not valid JSON (\(error.message))", field: field, tokenizer: tokenizer, column: column, text: text)
            }
            output.append(key.baseAddress!, key.count)
            var json: [UInt8] = []
            JSONWriter.write(value, into: &json)
            output.append(json)
        }
        return true
    }

    private func typeError(_ problem: String, field: CSVField, tokenizer: CSVTokenizer, column: Int, text: [UInt8]) -> CSVError {
        let (line, columnNumber) = tokenizer.location(of: field.start - (field.isQuoted ? 1 : 0))
        var excerpt = String(decoding: text.prefix(40), as: UTF8.self)
        if text.count > 40 { excerpt += "…" }
        let name = column < header.count ? header.names[column] : nil
        return CSVError("\(JSONWriter.string(.string(excerpt))) \(problem)", line: line, column: columnNumber,
                        row: tokenizer.row, field: column + 1, fieldName: name)
    }

    /// Appends the field as a JSON string, unquoting and escaping as its flags say.
    @inline(__always)
    private func appendString(_ field: CSVField, base: UnsafePointer<UInt8>, into output: inout CSVByteBuffer) {
        let length = field.end - field.start
        output.reserve(length + 2)
        output.appendReserved(0x22)
        if field.flags & CSVField.needsEscapeFlag == 0 {
            output.appendReserved(base + field.start, length)
        } else {
            Self.appendEscaped(base, field.start, field.end, doubledQuote: field.hasDoubledQuotes ? quote : nil, into: &output)
        }
        output.append(0x22)
    }

    /// Appends `bytes[start..<end]` as the inside of a JSON string, turning each doubled
    /// `doubledQuote` into one and escaping what JSON requires.
    static func appendEscaped(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int, doubledQuote: UInt8?, into output: inout CSVByteBuffer) {
        let quote = doubledQuote.map { Int($0) } ?? -1
        var runStart = start
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte != 0x7F && Int(byte) != quote {
                index += 1
                continue
            }
            output.append(bytes + runStart, index - runStart)
            output.reserve(6)
            if Int(byte) == quote {
                // A doubled quote stands for one; the second byte is skipped.
                if byte == 0x22 { output.appendReserved(0x5C) }
                output.appendReserved(byte)
                index += 2
                runStart = index
                continue
            }
            switch byte {
            case 0x22: output.appendReserved(0x5C); output.appendReserved(0x22)
            case 0x5C: output.appendReserved(0x5C); output.appendReserved(0x5C)
            case 0x0A: output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "n"))
            case 0x0D: output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "r"))
            case 0x09: output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "t"))
            case 0x08: output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "b"))
            case 0x0C: output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "f"))
            default:
                output.appendReserved(0x5C); output.appendReserved(UInt8(ascii: "u"))
                output.appendReserved(UInt8(ascii: "0")); output.appendReserved(UInt8(ascii: "0"))
                output.appendReserved(hexDigit(byte >> 4)); output.appendReserved(hexDigit(byte & 0x0F))
            }
            index += 1
            runStart = index
        }
        output.append(bytes + runStart, end - runStart)
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    @inline(__always)
    private static func isBooleanLiteral(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        switch end - start {
        case 4: return bytes[start] == 0x74 && bytes[start + 1] == 0x72 && bytes[start + 2] == 0x75 && bytes[start + 3] == 0x65
        case 5: return bytes[start] == 0x66 && bytes[start + 1] == 0x61 && bytes[start + 2] == 0x6C && bytes[start + 3] == 0x73 && bytes[start + 4] == 0x65
        default: return false
        }
    }

    /// Appends the decimal digits of a non-negative integer.
    package static func appendDecimal(_ value: Int, into output: inout CSVByteBuffer) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        var length = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[23 - length] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                length += 1
            } while remaining > 0
            output.append(raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + 24 - length, length)
        }
    }
}
