#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``.
///
/// Strictness is the point: every `n_` case of JSONTestSuite is rejected, nesting is capped
/// so hostile input cannot overflow the stack, and number literals keep their text
/// (``JSONNumber``). The byte-level grammar is shared with ``JSONCompactor`` (it lives in
/// `JSONScan`), so the two accept the same texts and report the same ``JSONError``: the
/// message says what was expected and the offset is the exact byte where it went wrong.
///
/// What happens to the inputs RFC 8259 leaves to the implementation (JSONTestSuite's `i_`
/// and `test_transform` files):
/// - Invalid UTF-8 anywhere (truncated, overlong, encoded surrogates, above U+10FFFF,
///   Latin-1, UTF-16 text) is an error; it is never replaced.
/// - A lone surrogate *escape* (`"\uD800"`, `"\uDd1e\uD834"`) becomes U+FFFD, as in jq;
///   a valid pair becomes its supplementary scalar; `\u0000` is kept as U+0000.
/// - A number keeps its literal text whatever its size (`1E400`, `-123123e100000`,
///   `100000000000000000000`); its `double` is the nearest double, ±infinity or ±0 for
///   out-of-range exponents.
/// - Nesting deeper than `maxDepth` (default 1000) is an error at the bracket that goes one
///   level too deep, found before any recursion: 100,000 `[` cannot overflow the stack.
/// - A UTF-8 byte order mark is not JSON: the parser rejects it (the runtime drops a BOM at
///   the start of a file before records reach the parser).
/// - Duplicate keys: the last value wins, in the position of the first (as jq); keys are
///   compared byte for byte, not normalized (NFC and NFD spellings are different keys).
///   ``JSONCompactor`` copies text, so it keeps duplicates as they are (`{"a":1,"a":2}`).
/// - Whatever the parser accepts, ``JSONCompactor`` accepts, with the same error (message
///   and offset) for what it rejects; JSONTestSuite's `i_` and `test_transform` files are
///   pinned by `JSONConformanceTests`.
package struct JSONParser: ~Copyable {
    /// The deepest nesting of arrays and objects accepted before ``JSONError``.
    package static let defaultMaxDepth = 1000

    private let base: UnsafePointer<UInt8>
    private let count: Int
    private var position = 0
    private let maxDepth: Int
    private var depth = 0
    /// Values of the arrays being built, innermost last (one buffer shared by all levels;
    /// a finished array's elements are moved out of it, not copied).
    private var arrayValues = JSONWorkStack<JSONValue>()
    /// Keys, key fingerprints and values of the objects being built, innermost last.
    private var objectKeys = JSONWorkStack<String>()
    private var objectKeyFingerprints = JSONWorkStack<UInt64>()
    private var objectValues = JSONWorkStack<JSONValue>()
    /// Scratch space for decoding strings with escapes.
    private var unescaped: [UInt8] = []
    /// Whether any whitespace outside strings was skipped: when not, the text is already compact.
    private var sawWhitespace = false

    private init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.base = JSONScan.base(of: bytes)
        self.count = bytes.count
        self.maxDepth = maxDepth
    }

    /// Parses exactly one JSON text (surrounding whitespace allowed, nothing else).
    package static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseText(keeping: nil)
    }

    /// Parses one JSON text but builds only what `tree` keeps (``JSONPathTree/project(_:)``).
    ///
    /// The result equals `tree.project(parse(bytes))`, and the parts left out are still
    /// validated completely, with the same errors as a full parse; they are only not built.
    /// Keys are matched against the tree's as bytes, so a key left out costs no `String`.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer,
        keeping tree: JSONPathTree,
        maxDepth: Int = defaultMaxDepth
    ) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseText(keeping: tree.isWhole ? nil : tree)
    }

    /// ``parse(_:keeping:maxDepth:)`` that also says whether the text has no whitespace outside
    /// its strings: then it is already its own compact form, and a stage that writes the record
    /// can copy it instead of compacting it (``JSONCompactor/appendValidated(_:into:)``).
    package static func parse(
        _ bytes: UnsafeRawBufferPointer,
        keeping tree: JSONPathTree,
        isCompact: inout Bool,
        maxDepth: Int = defaultMaxDepth
    ) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        let value = try parser.parseText(keeping: tree.isWhole ? nil : tree)
        isCompact = !parser.sawWhitespace
        return value
    }

    /// Parses one JSON text held in a `String`.
    package static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONError> = text.withUTF8 { buffer in
            do throws(JSONError) { return .success(try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON text held in a byte array.
    package static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONError) { return .success(try parse(buffer, maxDepth: maxDepth)) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON text held in a byte array, building only what `tree` keeps.
    package static func parse(_ bytes: [UInt8], keeping tree: JSONPathTree, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result: Result<JSONValue, JSONError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONError) { return .success(try parse(buffer, keeping: tree, maxDepth: maxDepth)) }
            catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: - Grammar

    private mutating func parseText(keeping tree: JSONPathTree?) throws(JSONError) -> JSONValue {
        skipSpace()
        let value: JSONValue
        if let tree {
            value = try parseValue(keeping: tree)
        } else {
            value = try parseValue()
        }
        skipSpace()
        if position < count {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedEnd)
        }
        return value
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard position < count else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedValue)
        }
        switch base[position] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "t"):
            try JSONScan.scanLiteral(base, count, &position, "true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try JSONScan.scanLiteral(base, count, &position, "false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try JSONScan.scanLiteral(base, count, &position, "null")
            return .null
        default:
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedValue)
        }
    }

    /// Opens a container at `position`: checks the depth, moves past the bracket and whitespace.
    @inline(__always)
    private mutating func enterContainer() throws(JSONError) {
        if depth >= maxDepth { throw JSONScan.tooDeep(position, maxDepth: maxDepth) }
        depth &+= 1
        position &+= 1
        skipSpace()
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        defer { depth &-= 1 }
        if position < count, base[position] == UInt8(ascii: "]") {
            position &+= 1
            return .array([])
        }
        let frameStart = arrayValues.count
        while true {
            let element = try parseValue()
            arrayValues.append(element)
            if try !continueContainer(closingWith: UInt8(ascii: "]"), expected: JSONScan.expectedArrayContinuation) { break }
        }
        return .array(arrayValues.popArray(from: frameStart))
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        defer { depth &-= 1 }
        if position < count, base[position] == UInt8(ascii: "}") {
            position &+= 1
            return .object(JSONObject())
        }
        let frameStart = objectKeys.count
        while true {
            let (key, fingerprint) = try parseKeyAndColon()
            let value = try parseValue()
            if let duplicate = duplicatePosition(of: key, fingerprint: fingerprint, from: frameStart) {
                objectValues.replace(at: duplicate, with: value)  // the last value wins, in the first position
            } else {
                objectKeys.append(key)
                objectKeyFingerprints.append(fingerprint)
                objectValues.append(value)
            }
            if try !continueContainer(closingWith: UInt8(ascii: "}"), expected: JSONScan.expectedObjectContinuation) { break }
        }
        objectKeyFingerprints.removeAll(from: frameStart)
        return .object(JSONObject(uniqueKeys: objectKeys.popArray(from: frameStart), values: objectValues.popArray(from: frameStart)))
    }

    @inline(__always)
    private func duplicatePosition(of key: String, fingerprint: UInt64, from frameStart: Int) -> Int? {
        var index = frameStart
        let end = objectKeyFingerprints.count
        while index < end {
            // Keys are compared byte for byte (String's == would unify NFC and NFD spellings).
            if objectKeyFingerprints[index] == fingerprint, objectKeys[index].utf8.elementsEqual(key.utf8) { return index }
            index &+= 1
        }
        return nil
    }

    /// Parses `"key" :` and the whitespace after it; returns the key and its fingerprint.
    @inline(__always)
    private mutating func parseKeyAndColon() throws(JSONError) -> (String, UInt64) {
        guard position < count, base[position] == UInt8(ascii: "\"") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedKey)
        }
        let start = position &+ 1
        let hasEscapes = try JSONScan.scanString(base, count, &position)
        let end = position &- 1
        let key: String
        let fingerprint: UInt64
        if hasEscapes {
            decodeEscapedString(from: start, to: end)
            key = String(decoding: unescaped, as: UTF8.self)
            fingerprint = unescaped.withUnsafeBufferPointer { Self.fingerprint($0.baseAddress ?? JSONScan.emptyBase, $0.count) }
        } else {
            key = String(decoding: UnsafeBufferPointer(start: base + start, count: end &- start), as: UTF8.self)
            fingerprint = Self.fingerprint(base + start, end &- start)
        }
        skipSpace()
        guard position < count, base[position] == UInt8(ascii: ":") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedColon)
        }
        position &+= 1
        skipSpace()
        return (key, fingerprint)
    }

    /// A cheap hash of a key's UTF-8 bytes (its length and first and last 8 bytes): equal
    /// keys have equal fingerprints, so most duplicate checks never compare strings.
    @inline(__always)
    private static func fingerprint(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        var hash = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        if length >= 8 {
            hash ^= JSONScan.loadWord(bytes)
            hash = (hash &* 0xBF58_476D_1CE4_E5B9) ^ JSONScan.loadWord(bytes + (length &- 8))
        } else {
            var word: UInt64 = 0
            var index = 0
            while index < length {
                word |= UInt64(bytes[index]) << UInt64(index &* 8)
                index &+= 1
            }
            hash ^= word
        }
        return hash
    }

    private mutating func parseString() throws(JSONError) -> String {
        let start = position &+ 1
        let hasEscapes = try JSONScan.scanString(base, count, &position)
        let end = position &- 1
        if !hasEscapes {
            return String(decoding: UnsafeBufferPointer(start: base + start, count: end &- start), as: UTF8.self)
        }
        decodeEscapedString(from: start, to: end)
        return String(decoding: unescaped, as: UTF8.self)
    }

    /// Decodes the already validated string bytes `start..<end` into ``unescaped``.
    ///
    /// A `\u` escape of a lone surrogate (high without a following low, or a low on its own)
    /// becomes U+FFFD, as in jq.
    private mutating func decodeEscapedString(from start: Int, to end: Int) {
        unescaped.removeAll(keepingCapacity: true)
        var index = start
        var runStart = start
        while index < end {
            guard base[index] == UInt8(ascii: "\\") else {
                index &+= 1
                continue
            }
            unescaped.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index &- runStart))
            let kind = base[index &+ 1]
            index &+= 2
            switch kind {
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: index)
                index &+= 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    if index &+ 6 <= end, base[index] == UInt8(ascii: "\\"), base[index &+ 1] == UInt8(ascii: "u"),
                       case let low = hex4(at: index &+ 2), low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                        index &+= 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                appendUTF8(scalar)
            default: unescaped.append(kind)  // '"', '\\' and '/' stand for themselves
            }
            runStart = index
        }
        unescaped.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: end &- runStart))
    }

    @inline(__always)
    private func hex4(at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(JSONScan.hexValue(base[index &+ offset])) }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        UTF8Validation.appendScalar(scalar, into: &unescaped)
    }

    private mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = position
        try JSONScan.scanNumber(base, count, &position)
        let literal = String(decoding: UnsafeBufferPointer(start: base + start, count: position &- start), as: UTF8.self)
        return JSONNumber(literal: literal, double: Self.doubleValue(base + start, position &- start, literal: literal))
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The double nearest to a validated number literal.
    ///
    /// Exact fast path (Clinger): up to 15 significant digits and a decimal exponent within
    /// ±22 give a mantissa and a power of ten that are both exact doubles, so one
    /// multiplication or division rounds correctly. Everything else goes to the standard
    /// library's correctly rounded conversion.
    static func doubleValue(_ bytes: UnsafePointer<UInt8>, _ length: Int, literal: String) -> Double {
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var exponent = 0
        while index < length, JSONScan.isDigit(bytes[index]) {
            mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
            if mantissa != 0 { digitCount &+= 1 }
            index &+= 1
        }
        if index < length, bytes[index] == UInt8(ascii: ".") {
            index &+= 1
            while index < length, JSONScan.isDigit(bytes[index]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
                if mantissa != 0 { digitCount &+= 1 }
                exponent &-= 1
                index &+= 1
            }
        }
        if index < length {  // 'e' or 'E'
            index &+= 1
            var exponentNegative = false
            if bytes[index] == UInt8(ascii: "-") { exponentNegative = true; index &+= 1 }
            else if bytes[index] == UInt8(ascii: "+") { index &+= 1 }
            var explicit = 0
            while index < length {
                if explicit > 100_000 { return Double(literal) ?? .nan }
                explicit = explicit &* 10 &+ Int(bytes[index] &- 0x30)
                index &+= 1
            }
            exponent &+= exponentNegative ? -explicit : explicit
        }
        if digitCount <= 15 {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            let value = Double(mantissa)
            if exponent >= 0 && exponent <= 22 {
                let result = value * powersOfTen[exponent]
                return negative ? -result : result
            }
            if exponent < 0 && exponent >= -22 {
                let result = value / powersOfTen[-exponent]
                return negative ? -result : result
            }
        }
        return Double(literal) ?? .nan
    }

    /// After an element: moves past `,` (true: another element follows) or the closing
    /// bracket (false: the container ends); anything else is an error.
    @inline(__always)
    private mutating func continueContainer(closingWith closing: UInt8, expected: String) throws(JSONError) -> Bool {
        skipSpace()
        guard position < count else { throw JSONScan.unexpected(base, count, position, expected: expected) }
        let byte = base[position]
        position &+= 1
        if byte == UInt8(ascii: ",") {
            skipSpace()
            return true
        }
        if byte == closing { return false }
        position &-= 1
        throw JSONScan.unexpected(base, count, position, expected: expected)
    }

    // MARK: - Projection

    /// Parses the value at `position`, building only what `tree` (not whole) keeps.
    private mutating func parseValue(keeping tree: JSONPathTree) throws(JSONError) -> JSONValue {
        guard position < count, base[position] == UInt8(ascii: "{") else { return try parseValue() }
        try enterContainer()
        defer { depth &-= 1 }
        var object = JSONObject()
        if position < count, base[position] == UInt8(ascii: "}") {
            position &+= 1
            return .object(object)
        }
        while true {
            // The key is matched against the tree's keys as bytes: a skipped key costs no String,
            // and a kept one neither copies its subtree (a position in the table, not a pair).
            if let index = try matchKeyAndColon(tree.keyTable) {
                object[tree.keyTable.names[index]] = tree.keyTable.subtrees[index].isWhole
                    ? try parseValue() : try parseValue(keeping: tree.keyTable.subtrees[index])
            } else {
                try skipValue()
            }
            if try !continueContainer(closingWith: UInt8(ascii: "}"), expected: JSONScan.expectedObjectContinuation) { break }
        }
        return .object(object)
    }

    /// Parses `"key" :` and the whitespace after it; returns the position of the key in the tree's table, if it is there.
    ///
    /// Keys are compared byte for byte with the tree's (after decoding escapes), so
    /// canonically equivalent spellings stay different keys, as in jq.
    @inline(__always)
    private mutating func matchKeyAndColon(_ table: borrowing JSONPathTree.KeyTable) throws(JSONError) -> Int? {
        guard position < count, base[position] == UInt8(ascii: "\"") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedKey)
        }
        let start = position &+ 1
        let hasEscapes = try JSONScan.scanString(base, count, &position)
        let end = position &- 1
        let match: Int?
        if hasEscapes {
            decodeEscapedString(from: start, to: end)
            match = unescaped.withUnsafeBufferPointer { table.index(of: $0.baseAddress ?? JSONScan.emptyBase, length: $0.count) }
        } else {
            match = table.index(of: base + start, length: end &- start)
        }
        skipSpace()
        guard position < count, base[position] == UInt8(ascii: ":") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedColon)
        }
        position &+= 1
        skipSpace()
        return match
    }

    /// Validates the value at `position` without building it, and moves past it.
    private mutating func skipValue() throws(JSONError) {
        // Scalars directly; containers through the iterative validator.
        guard position < count else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedValue)
        }
        switch base[position] {
        case UInt8(ascii: "\""):
            _ = try JSONScan.scanString(base, count, &position)
            return
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try JSONScan.scanNumber(base, count, &position)
            return
        case UInt8(ascii: "t"):
            try JSONScan.scanLiteral(base, count, &position, "true")
            return
        case UInt8(ascii: "f"):
            try JSONScan.scanLiteral(base, count, &position, "false")
            return
        case UInt8(ascii: "n"):
            try JSONScan.scanLiteral(base, count, &position, "null")
            return
        default:
            break
        }
        var validator = JSONValidator(base: base, count: count, position: position, maxDepth: maxDepth)
        try validator.scanValue(startDepth: depth)
        position = validator.position
        if validator.sawWhitespace { sawWhitespace = true }
    }

    /// Skips whitespace, noting that there was some.
    @inline(__always)
    private mutating func skipSpace() {
        guard position < count, base[position] <= 0x20 else { return }
        let start = position
        JSONScan.skipWhitespace(base, count, &position)
        if position != start { sawWhitespace = true }
    }
}

/// Describes a byte for an error message: `'x'` for printable ASCII, `byte 0xNN` otherwise.
func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(String(UnicodeScalar(byte)))'" }
    let hex = String(byte, radix: 16, uppercase: true)
    return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
}

/// UTF-8 validation and encoding shared by the JSON and CSV codecs.
package enum UTF8Validation {
    /// Appends the UTF-8 encoding of a Unicode scalar value.
    @inline(__always)
    static func appendScalar(_ scalar: UInt32, into output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// The length (2–4) of the valid multi-byte sequence starting at `index`, or 0 when
    /// the bytes there are not valid UTF-8 (truncated, overlong, surrogate, > U+10FFFF).
    @inline(__always)
    package static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        precondition(index >= 0 && index < bytes.count, "index out of range")
        return sequenceLength(JSONScan.base(of: bytes), bytes.count, at: index)
    }

    /// The length (2–4) of the valid multi-byte sequence at `base[index]` within `count`
    /// bytes, or 0 when it is not valid UTF-8. No bounds checks: `index < count` is required.
    @inline(__always)
    package static func sequenceLength(_ base: UnsafePointer<UInt8>, _ count: Int, at index: Int) -> Int {
        let lead = base[index]
        let remaining = count &- index
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && base[index &+ 1] & 0xC0 == 0x80 ? 2 : 0
        case 0xE0...0xEF:
            guard remaining >= 3 else { return 0 }
            let second = base[index &+ 1], third = base[index &+ 2]
            guard second & 0xC0 == 0x80, third & 0xC0 == 0x80 else { return 0 }
            if lead == 0xE0 && second < 0xA0 { return 0 }  // overlong
            if lead == 0xED && second >= 0xA0 { return 0 }  // surrogate
            return 3
        case 0xF0...0xF4:
            guard remaining >= 4 else { return 0 }
            let second = base[index &+ 1], third = base[index &+ 2], fourth = base[index &+ 3]
            guard second & 0xC0 == 0x80, third & 0xC0 == 0x80, fourth & 0xC0 == 0x80 else { return 0 }
            if lead == 0xF0 && second < 0x90 { return 0 }  // overlong
            if lead == 0xF4 && second >= 0x90 { return 0 }  // above U+10FFFF
            return 4
        default:
            return 0
        }
    }
}
