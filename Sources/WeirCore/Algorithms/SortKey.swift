#if canImport(Glibc)
import Glibc
#endif

/// How one sort key compares: jq's order by default, or one of `sort(1)`'s variations.
package struct SortKeyOptions: Sendable, Equatable {
    /// Descending (`-r`, `--desc`).
    package var descending = false
    /// Numbers, and strings that hold a JSON number (`"12"`, `" 1.5e3 "`), by value; every
    /// other value after all numbers, in jq's order (`sort -n`, `mlr sort -nf`).
    package var numeric = false
    /// Strings with runs of digits compared as numbers: `"a2" < "a10"` (`sort -V`).
    package var natural = false
    /// Strings compared by their lower-case form (`sort -f`); equal ones keep input order.
    package var ignoresCase = false

    package init(descending: Bool = false, numeric: Bool = false, natural: Bool = false, ignoresCase: Bool = false) {
        self.descending = descending
        self.numeric = numeric
        self.natural = natural
        self.ignoresCase = ignoresCase
    }
}

/// Sort keys as bytes: the image of jq's order (``JSONValue/compare(_:_:)``) under a
/// byte encoding, so that comparing two encoded values with `memcmp` (a shorter prefix
/// first) orders them as `JSONValue.compare` does.
///
/// Why bytes: a sort compares each key about log₂(n) times and an external sort writes keys
/// to disk and reads them back; comparing bytes needs no decoding, no allocation and no
/// re-evaluation of the key expression, and the bytes go to a spill file as they are.
///
/// The encoding is prefix-free (a decoder always knows where a value ends), which is what
/// makes byte order follow structure:
/// - `null` `01`, `false` `02`, `true` `03`;
/// - a number `04`, its double as 8 bytes (sign bit flipped, or all bits for negatives;
///   `-0` as `0`, NaN below everything), then `00`, or for an integer literal beyond 2^53
///   `01` + its digit count (4 bytes) + digits (complemented when negative), so big IDs that
///   share a double still sort by value;
/// - a string `05`, its UTF-8 bytes with `00` written `00 FF`, then `00 00`;
/// - an array `06`, its elements, `00` (every element starts with `01`…`08`);
/// - an object `07`, its keys in byte order as strings, `00`, then the values in that order.
/// - with ``SortKeyOptions/numeric``, a value that is not a number `08` + its encoding
///   (after all numbers).
///
/// A whole sort key (``encode(_:options:into:)``) is one segment per `--by` expression:
/// a 4-byte length, then the encoded array of that expression's outputs (jq's `sort_by(f)`
/// sorts by `[f]`, so an expression that yields nothing sorts first, as `[]`).
/// ``compare(_:_:options:)`` compares segment by segment, reversing the descending ones.
package enum SortKey {
    /// Appends one segment: `outputs` (the outputs of one key expression) as an array.
    package static func appendSegment(_ outputs: [JSONValue], options: SortKeyOptions, into key: inout [UInt8]) {
        let lengthAt = key.count
        key.append(contentsOf: [0, 0, 0, 0])
        key.append(0x06)
        for output in outputs { appendValue(output, options: options, into: &key) }
        key.append(0x00)
        let length = UInt32(key.count - lengthAt - 4)
        withUnsafeBytes(of: length.littleEndian) { key.replaceSubrange(lengthAt..<(lengthAt + 4), with: $0) }
    }

    /// Appends the encoding of one value.
    package static func appendValue(_ value: JSONValue, options: SortKeyOptions, into key: inout [UInt8]) {
        if options.numeric {
            if let number = numericValue(value) {
                appendNumber(number, into: &key)
            } else {
                key.append(0x08)
                var plain = options
                plain.numeric = false
                appendValue(value, options: plain, into: &key)
            }
            return
        }
        switch value {
        case .null: key.append(0x01)
        case .bool(let flag): key.append(flag ? 0x03 : 0x02)
        case .number(let number): appendNumber(number, into: &key)
        case .string(let string): appendString(string, options: options, into: &key)
        case .array(let elements):
            key.append(0x06)
            for element in elements { appendValue(element, options: options, into: &key) }
            key.append(0x00)
        case .object(let object):
            key.append(0x07)
            // By entry, not by lookup: a lookup by String would merge canonically equivalent keys.
            let entries = zip(object.keys, object.values).sorted { JSONValue.compareUTF8($0.0, $1.0) < 0 }
            var keyOptions = SortKeyOptions()
            keyOptions.natural = false
            for (name, _) in entries { appendString(name, options: keyOptions, into: &key) }
            key.append(0x00)
            for (_, member) in entries { appendValue(member, options: options, into: &key) }
        }
    }

    /// Compares two whole keys of `options.count` segments; negative, zero or positive.
    @inline(__always)
    package static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, descending: [Bool]) -> Int {
        var leftAt = 0, rightAt = 0
        for reversed in descending {
            let leftLength = Int(left.loadUnaligned(fromByteOffset: leftAt, as: UInt32.self).littleEndian)
            let rightLength = Int(right.loadUnaligned(fromByteOffset: rightAt, as: UInt32.self).littleEndian)
            leftAt += 4
            rightAt += 4
            var order = Int(memcmp(left.baseAddress! + leftAt, right.baseAddress! + rightAt, min(leftLength, rightLength)))
            if order == 0 { order = leftLength == rightLength ? 0 : (leftLength < rightLength ? -1 : 1) }
            if order != 0 { return reversed ? -order : order }
            leftAt += leftLength
            rightAt += rightLength
        }
        return 0
    }

    /// Compares two encoded values (from ``appendValue(_:options:into:)``) as bytes.
    package static func compareValues(_ left: [UInt8], _ right: [UInt8]) -> Int {
        left.withUnsafeBytes { a in
            right.withUnsafeBytes { b in
                let order = a.count == 0 || b.count == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, min(a.count, b.count)))
                if order != 0 { return order < 0 ? -1 : 1 }
                return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
            }
        }
    }

    // MARK: - Scalars

    private static let exactDoubleLimit = 9007199254740992.0

    private static func appendNumber(_ number: JSONNumber, into key: inout [UInt8]) {
        key.append(0x04)
        var double = number.double
        if double == 0 { double = 0 }  // -0 sorts as 0
        var bits = double.bitPattern
        if double.isNaN {
            bits = 0
        } else if bits >> 63 == 1 {
            bits = ~bits
        } else {
            bits |= 1 << 63
        }
        withUnsafeBytes(of: bits.bigEndian) { key.append(contentsOf: $0) }
        guard abs(number.double) >= exactDoubleLimit, let literal = number.literal, let digits = integerDigits(literal) else {
            key.append(0x00)
            return
        }
        key.append(0x01)
        let negative = literal.utf8.first == UInt8(ascii: "-")
        let count = UInt32(digits.count)
        withUnsafeBytes(of: (negative ? ~count : count).bigEndian) { key.append(contentsOf: $0) }
        for digit in digits { key.append(negative ? ~digit : digit) }
    }

    /// The digits of an integer literal (no fraction, no exponent), without its sign.
    private static func integerDigits(_ literal: String) -> [UInt8]? {
        var digits = Array(literal.utf8)
        if digits.first == UInt8(ascii: "-") { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits
    }

    private static func appendString(_ string: String, options: SortKeyOptions, into key: inout [UInt8]) {
        key.append(0x05)
        var string = string
        if options.ignoresCase { string = lowerCased(string) }
        string.withUTF8 { bytes in
            if options.natural {
                appendNatural(bytes, into: &key)
            } else {
                for byte in bytes {
                    key.append(byte)
                    if byte == 0 { key.append(0xFF) }
                }
            }
        }
        key.append(0x00)
        key.append(0x00)
    }

    /// Runs of ASCII digits as `0x30`, their significant digit count (2 bytes) and the
    /// digits: a run sorts among characters where a digit does, and runs by numeric value.
    private static func appendNatural(_ bytes: UnsafeBufferPointer<UInt8>, into key: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else {
                key.append(byte)
                if byte == 0 { key.append(0xFF) }
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
            var start = index
            while start < end - 1, bytes[start] == 0x30 { start += 1 }
            let count = UInt16(min(end - start, Int(UInt16.max)))
            key.append(0x30)
            withUnsafeBytes(of: count.bigEndian) { key.append(contentsOf: $0) }
            key.append(contentsOf: bytes[start..<(start + Int(count))])
            index = end
        }
    }

    private static func lowerCased(_ string: String) -> String {
        var ascii = true
        for byte in string.utf8 where byte >= 0x80 { ascii = false; break }
        guard ascii else { return string.lowercased() }
        return String(decoding: string.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// The number a value stands for under ``SortKeyOptions/numeric``: a number, or a string
    /// holding a JSON number (spaces around it allowed); nil otherwise.
    package static func numericValue(_ value: JSONValue) -> JSONNumber? {
        switch value {
        case .number(let number): return number
        case .string(let string):
            var text = Substring(string)
            while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
            while let last = text.last, last == " " || last == "\t" { text.removeLast() }
            guard isJSONNumber(text.utf8) else { return nil }
            return JSONNumber(literal: String(text))
        default: return nil
        }
    }

    private static func isJSONNumber(_ text: Substring.UTF8View) -> Bool {
        var iterator = text.makeIterator()
        var byte = iterator.next()
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if byte == UInt8(ascii: "-") { byte = iterator.next() }
        guard isDigit(byte) else { return false }
        let leadingZero = byte == 0x30
        byte = iterator.next()
        if leadingZero, isDigit(byte) { return false }
        while isDigit(byte) { byte = iterator.next() }
        if byte == UInt8(ascii: ".") {
            byte = iterator.next()
            guard isDigit(byte) else { return false }
            while isDigit(byte) { byte = iterator.next() }
        }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            byte = iterator.next()
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = iterator.next() }
            guard isDigit(byte) else { return false }
            while isDigit(byte) { byte = iterator.next() }
        }
        return byte == nil
    }
}
