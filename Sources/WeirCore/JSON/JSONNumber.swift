/// A JSON number that remembers the text it was written with.
///
/// A number read from input keeps its literal (`12345678901234567890`, `1.10`, `-0`,
/// `1E400`) and is written back byte for byte as long as no computation touched it.
/// Arithmetic works on `Double`, as jq's does; a number made by a computation has no
/// literal and is formatted the way jq formats doubles (``JSONNumber/format(_:)``).
package struct JSONNumber: Sendable {
    /// The literal text as it appeared in the input, if this number came from input.
    package let literal: String?
    /// The value as a double (for literals, the nearest double; ±huge literals become ±infinity
    /// here but keep their text).
    package let double: Double

    /// A computed number.
    package init(_ double: Double) {
        self.literal = nil
        self.double = double
    }

    /// A number read from input: `literal` must be a valid RFC 8259 number.
    package init(literal: String) {
        self.literal = literal
        self.double = Double(literal) ?? .nan
    }

    /// A number read from input with its value already computed.
    package init(literal: String, double: Double) {
        self.literal = literal
        self.double = double
    }

    /// True when the value is a whole number that fits exactly in a `Double`'s integer range.
    package var isInteger: Bool { double.isFinite && double.rounded(.towardZero) == double }

    /// The value as an `Int` when it is integral and in range, else `nil`.
    package var intValue: Int? {
        guard isInteger, double >= -9.2233720368547758e18, double < 9.2233720368547758e18 else { return nil }
        return Int(double)
    }

    /// The text written for this number: its literal when it has one, else jq's formatting.
    package var text: String { literal ?? JSONNumber.format(double) }

    /// Formats a double the way jq 1.7 prints computed numbers.
    ///
    /// The digits are the shortest that read back to the same double (`0.30000000000000004`);
    /// the layout is jq's (`jvp_dtoa_fmt`): with `d` digits and the decimal point after
    /// digit `p`, the number is written in exponent form when `p <= -4` or `p > d + 15`
    /// (`1e+16`, `1.5e-07`, `1e-05`), else positionally (`3`, `0.0001`, `15000000000000000`).
    /// Exponents have a sign and at least two digits. JSON has no NaN or infinity: NaN
    /// prints as `null`, infinities as ±`1.7976931348623157e+308` (jq's choice).
    package static func format(_ double: Double) -> String {
        if double.isNaN { return "null" }
        if double.isInfinite { return double < 0 ? "-1.7976931348623157e+308" : "1.7976931348623157e+308" }
        if double == 0 { return double.sign == .minus ? "-0" : "0" }
        if double.rounded(.towardZero) == double, abs(double) < 1e15 {
            return String(Int64(double))  // fewer than 16 digits: always positional
        }
        // Shortest round-trip digits and decimal point position from Swift's description
        // ("1.5e-07", "0.0001", "12345.678", "1e+16").
        var digits: [UInt8] = []
        var pointPosition = 0
        var exponent = 0
        var seenPoint = false
        var inExponent = false
        var exponentNegative = false
        for byte in abs(double).description.utf8 {
            if inExponent {
                if byte == UInt8(ascii: "-") { exponentNegative = true } else if byte != UInt8(ascii: "+") { exponent = exponent * 10 + Int(byte - 0x30) }
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                inExponent = true
            } else if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(byte)
                if !seenPoint { pointPosition += 1 }
            }
        }
        pointPosition += exponentNegative ? -exponent : exponent
        while digits.first == UInt8(ascii: "0") { digits.removeFirst(); pointPosition -= 1 }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        var text: [UInt8] = double < 0 ? [UInt8(ascii: "-")] : []
        if pointPosition <= -4 || pointPosition > digits.count + 15 {
            text.append(digits[0])
            if digits.count > 1 {
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: digits[1...])
            }
            let shown = pointPosition - 1
            text.append(contentsOf: (shown < 0 ? "e-" : "e+").utf8)
            if abs(shown) < 10 { text.append(UInt8(ascii: "0")) }
            text.append(contentsOf: String(abs(shown)).utf8)
        } else if pointPosition <= 0 {
            text.append(contentsOf: "0.".utf8)
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -pointPosition))
            text.append(contentsOf: digits)
        } else if pointPosition >= digits.count {
            text.append(contentsOf: digits)
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: pointPosition - digits.count))
        } else {
            text.append(contentsOf: digits[..<pointPosition])
            text.append(UInt8(ascii: "."))
            text.append(contentsOf: digits[pointPosition...])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Three-way numeric comparison. Two integer literals too large for a double's exact
    /// range compare by their digits, so distinct big IDs never compare equal.
    package static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int {
        if a.double < b.double { return -1 }
        if a.double > b.double { return 1 }
        if a.double == b.double, abs(a.double) >= 9007199254740992,
           let aDigits = a.literal.flatMap(integerDigits), let bDigits = b.literal.flatMap(integerDigits) {
            return compareIntegerLiterals(aDigits, bDigits)
        }
        return 0
    }

    /// The sign and digits of an integer literal without exponent or fraction, else `nil`.
    private static func integerDigits(_ literal: String) -> (negative: Bool, digits: Substring)? {
        var text = Substring(literal)
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return (negative, text)
    }

    private static func compareIntegerLiterals(_ a: (negative: Bool, digits: Substring), _ b: (negative: Bool, digits: Substring)) -> Int {
        if a.negative != b.negative { return a.negative ? -1 : 1 }
        var order: Int
        if a.digits.count != b.digits.count {
            order = a.digits.count < b.digits.count ? -1 : 1
        } else {
            order = a.digits == b.digits ? 0 : (a.digits < b.digits ? -1 : 1)
        }
        if a.negative { order = -order }
        return order
    }
}

extension JSONNumber: Equatable {
    package static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool { compare(lhs, rhs) == 0 }
}
