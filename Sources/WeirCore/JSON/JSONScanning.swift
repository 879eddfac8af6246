#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The byte-level grammar shared by every JSON reader in Weir.
///
/// ``JSONParser``, ``JSONCompactor`` and the projection parse's skipper all call these
/// primitives, so they accept exactly the same texts and report exactly the same
/// ``JSONError`` (message and offset) for the same mistake. Functions work on a base
/// pointer, a byte count and a position, without bounds checks: every read is guarded
/// by an explicit `position < count` test.
enum JSONScan {
    /// Reads nothing: the base pointer used for an empty buffer.
    nonisolated(unsafe) static let emptyBase: UnsafePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    /// The base address of `bytes` as a typed pointer (a valid dummy when empty).
    @inline(__always)
    static func base(of bytes: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
        guard let address = bytes.baseAddress else { return emptyBase }
        return address.assumingMemoryBound(to: UInt8.self)
    }

    // MARK: - Errors

    /// `unexpected 'x', expected …` at `position`, or `unexpected end of input, expected …`.
    static func unexpected(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: Int, expected: String) -> JSONError {
        if position >= count {
            return JSONError(offset: position, message: "unexpected end of input, expected \(expected)")
        }
        return JSONError(offset: position, message: "unexpected \(describeByte(base[position])), expected \(expected)")
    }

    /// The error for an array or object that opens one level too deep.
    static func tooDeep(_ position: Int, maxDepth: Int) -> JSONError {
        JSONError(offset: position, message: "nesting deeper than \(maxDepth) levels")
    }

    static let expectedValue = "a value"
    static let expectedKey = "a string key"
    static let expectedColon = "':' after an object key"
    static let expectedObjectContinuation = "',' or '}' after an object value"
    static let expectedArrayContinuation = "',' or ']' after an array element"
    static let expectedEnd = "end of input after the JSON value"

    // MARK: - Whitespace

    /// True for the four JSON whitespace bytes.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Moves `position` past JSON whitespace.
    @inline(__always)
    static func skipWhitespace(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: inout Int) {
        while position < count {
            let byte = base[position]
            if byte > 0x20 || !isWhitespace(byte) { return }
            position &+= 1
        }
    }

    // MARK: - Literals

    /// Checks `word` (`true`, `false`, `null`) at `position` and moves past it.
    @inline(__always)
    static func scanLiteral(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: inout Int, _ word: StaticString) throws(JSONError) {
        let length = word.utf8CodeUnitCount
        let expected = word.utf8Start
        if position &+ length <= count, memcmp(base + position, expected, length) == 0 {
            position &+= length
            return
        }
        var index = 0
        while position &+ index < count, index < length, base[position &+ index] == expected[index] { index &+= 1 }
        throw unexpected(base, count, position &+ index, expected: "'\(word)'")
    }

    // MARK: - Numbers

    /// True for an ASCII digit.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// Validates the RFC 8259 number starting at `position` (a `-` or a digit) and moves
    /// past it (``JSONNumberGrammar`` is the grammar).
    @inline(__always)
    static func scanNumber(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: inout Int) throws(JSONError) {
        switch JSONNumberGrammar.match(base, position, count) {
        case .number(let end):
            position = end
        case .failure(.integerDigit, let offset):
            throw unexpected(base, count, offset, expected: "a digit")
        case .failure(.leadingZero, let offset):
            throw JSONError(offset: offset, message: "leading zeros are not allowed in a number")
        case .failure(.fractionDigit, let offset):
            throw unexpected(base, count, offset, expected: "a digit after the decimal point")
        case .failure(.exponentDigit, let offset):
            throw unexpected(base, count, offset, expected: "a digit in the exponent")
        }
    }

    // MARK: - Strings

    /// A mask with the high bit set in each byte of `word` that a string scan must look at:
    /// `"`, `\`, a control character or a non-ASCII byte. Only the lowest flagged byte is
    /// exact (borrows can flag bytes above it), which is all the scan uses.
    @inline(__always)
    static func stringSpecialMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quoteHit = (quote &- ones) & ~quote
        let backslashHit = (backslash &- ones) & ~backslash
        return (word | control | quoteHit | backslashHit) & highs
    }

    /// Loads 8 bytes at `pointer` as a little-endian word.
    @inline(__always)
    static func loadWord(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
    }

    /// Validates the string whose opening quote is at `position` (escapes, UTF-8, no raw
    /// control characters) and moves past its closing quote. Returns true when the string
    /// contains a backslash escape (so its bytes are not its value).
    @inline(__always)
    static func scanString(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: inout Int) throws(JSONError) -> Bool {
        var index = position &+ 1
        var hasEscapes = false
        while true {
            while index &+ 8 <= count {
                let mask = stringSpecialMask(loadWord(base + index))
                if mask != 0 {
                    index &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                index &+= 8
            }
            guard index < count else {
                throw unexpected(base, count, index, expected: "'\"' to close the string")
            }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                position = index &+ 1
                return hasEscapes
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape(base, count, &index)
            } else if byte < 0x20 {
                throw JSONError(offset: index, message: "unescaped control character \(describeByte(byte)) in a string")
            } else if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(base, count, at: index)
                if length == 0 {
                    throw JSONError(offset: index, message: "invalid UTF-8 \(describeByte(byte)) in a string")
                }
                index &+= length
            } else {
                index &+= 1
            }
        }
    }

    /// Validates the escape whose backslash is at `position` and moves past it.
    @inline(__always)
    static func scanEscape(_ base: UnsafePointer<UInt8>, _ count: Int, _ position: inout Int) throws(JSONError) {
        let next = position &+ 1
        guard next < count else {
            throw unexpected(base, count, next, expected: "an escape character after '\\'")
        }
        switch base[next] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position = next &+ 1
        case UInt8(ascii: "u"):
            for digit in next &+ 1 ..< next &+ 5 {
                guard digit < count, hexValue(base[digit]) < 16 else {
                    throw unexpected(base, count, digit, expected: "four hex digits after '\\u'")
                }
            }
            position = next &+ 5
        default:
            throw JSONError(
                offset: position,
                message: "invalid escape \\\(describeByte(base[next])), expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u"
            )
        }
    }

    /// The value of a hex digit, or 255.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: 255
        }
    }
}

/// A stack of container kinds (object or array), one bit per level, without a heap
/// allocation for the first 64 levels.
struct JSONContainerStack {
    private var inline: UInt64 = 0
    private var spilled: [UInt64] = []
    /// The number of open containers.
    private(set) var depth = 0

    /// True when no container is open.
    @inline(__always) var isEmpty: Bool { depth == 0 }

    /// True when the innermost open container is an object.
    @inline(__always) var topIsObject: Bool {
        let level = depth &- 1
        if level < 64 { return inline >> UInt64(level) & 1 == 1 }
        return spilled[(level &- 64) >> 6] >> UInt64(level & 63) & 1 == 1
    }

    /// Opens a container.
    @inline(__always) mutating func push(isObject: Bool) {
        let level = depth
        depth &+= 1
        if level < 64 {
            let bit: UInt64 = 1 << UInt64(level)
            if isObject { inline |= bit } else { inline &= ~bit }
            return
        }
        let word = (level &- 64) >> 6
        if word == spilled.count { spilled.append(0) }
        let bit: UInt64 = 1 << UInt64(level & 63)
        if isObject { spilled[word] |= bit } else { spilled[word] &= ~bit }
    }

    /// Closes the innermost container.
    @inline(__always) mutating func pop() { depth &-= 1 }
}

/// The iterative validator behind ``JSONCompactor`` and the projection parse's skipping.
///
/// It keeps an explicit container stack instead of recursing, so nesting costs one bit per
/// level and can never overflow the machine stack. When `output` is set it also copies the
/// text minus insignificant whitespace: runs between whitespace are copied in one go.
struct JSONValidator {
    let base: UnsafePointer<UInt8>
    let count: Int
    let maxDepth: Int
    /// The read position.
    var position: Int
    /// Where compacted bytes go, or nil to only validate. It must already hold a copy of the
    /// text: a run is written only once whitespace before it was dropped (so compact input
    /// costs one copy and no more).
    let output: UnsafeMutablePointer<UInt8>?
    /// The number of bytes written to `output`.
    var outputCount = 0
    /// The start of the run of bytes not yet copied to `output`.
    var runStart: Int
    /// Whether any whitespace outside strings was skipped.
    var sawWhitespace = false

    init(base: UnsafePointer<UInt8>, count: Int, position: Int, maxDepth: Int, output: UnsafeMutablePointer<UInt8>? = nil) {
        self.base = base
        self.count = count
        self.position = position
        self.maxDepth = maxDepth
        self.output = output
        self.runStart = position
    }

    /// Skips whitespace, flushing the pending run to `output` first when there is some.
    @inline(__always)
    mutating func skipWhitespace() {
        guard position < count else { return }
        let byte = base[position]
        guard byte <= 0x20, JSONScan.isWhitespace(byte) else { return }
        sawWhitespace = true
        if let output {
            let length = position &- runStart
            if outputCount != runStart { (output + outputCount).update(from: base + runStart, count: length) }
            outputCount &+= length
        }
        repeat { position &+= 1 } while position < count && JSONScan.isWhitespace(base[position])
        runStart = position
    }

    /// Copies the pending run to `output` (at the end of the text).
    mutating func flush() {
        guard let output else { return }
        let length = position &- runStart
        if outputCount != runStart { (output + outputCount).update(from: base + runStart, count: length) }
        outputCount &+= length
        runStart = position
    }

    /// Validates one whole JSON text: whitespace, one value, whitespace, end.
    mutating func scanText() throws(JSONError) {
        skipWhitespace()
        try scanValue(startDepth: 0)
        skipWhitespace()
        if position < count {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedEnd)
        }
        flush()
    }

    /// Validates the value starting at `position` (no whitespace before it) that sits
    /// `startDepth` containers deep, and moves past it.
    mutating func scanValue(startDepth: Int) throws(JSONError) {
        var stack = JSONContainerStack()
        var depth = startDepth
        valueLoop: while true {
            guard position < count else {
                throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedValue)
            }
            switch base[position] {
            case UInt8(ascii: "{"):
                if depth >= maxDepth { throw JSONScan.tooDeep(position, maxDepth: maxDepth) }
                position &+= 1
                skipWhitespace()
                if position < count, base[position] == UInt8(ascii: "}") {
                    position &+= 1
                } else {
                    depth &+= 1
                    stack.push(isObject: true)
                    try scanKeyAndColon()
                    continue valueLoop
                }
            case UInt8(ascii: "["):
                if depth >= maxDepth { throw JSONScan.tooDeep(position, maxDepth: maxDepth) }
                position &+= 1
                skipWhitespace()
                if position < count, base[position] == UInt8(ascii: "]") {
                    position &+= 1
                } else {
                    depth &+= 1
                    stack.push(isObject: false)
                    continue valueLoop
                }
            case UInt8(ascii: "\""):
                _ = try JSONScan.scanString(base, count, &position)
            case UInt8(ascii: "t"):
                try JSONScan.scanLiteral(base, count, &position, "true")
            case UInt8(ascii: "f"):
                try JSONScan.scanLiteral(base, count, &position, "false")
            case UInt8(ascii: "n"):
                try JSONScan.scanLiteral(base, count, &position, "null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try JSONScan.scanNumber(base, count, &position)
            default:
                throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedValue)
            }
            // A value is complete: close containers until one expects another element.
            while !stack.isEmpty {
                skipWhitespace()
                let isObject = stack.topIsObject
                guard position < count else {
                    throw JSONScan.unexpected(
                        base, count, position,
                        expected: isObject ? JSONScan.expectedObjectContinuation : JSONScan.expectedArrayContinuation
                    )
                }
                let byte = base[position]
                if byte == UInt8(ascii: ",") {
                    position &+= 1
                    skipWhitespace()
                    if isObject { try scanKeyAndColon() }
                    continue valueLoop
                }
                if byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position &+= 1
                    stack.pop()
                    depth &-= 1
                    continue
                }
                throw JSONScan.unexpected(
                    base, count, position,
                    expected: isObject ? JSONScan.expectedObjectContinuation : JSONScan.expectedArrayContinuation
                )
            }
            return
        }
    }

    /// Validates `"key" :` and the whitespace after it.
    @inline(__always)
    private mutating func scanKeyAndColon() throws(JSONError) {
        guard position < count, base[position] == UInt8(ascii: "\"") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedKey)
        }
        _ = try JSONScan.scanString(base, count, &position)
        skipWhitespace()
        guard position < count, base[position] == UInt8(ascii: ":") else {
            throw JSONScan.unexpected(base, count, position, expected: JSONScan.expectedColon)
        }
        position &+= 1
        skipWhitespace()
    }
}
