/// A JSON number that remembers the text it was written with.
///
/// A number read from input keeps its literal (`12345678901234567890`, `1.10`, `-0`,
/// `1E400`) and is written back byte for byte as long as no computation touched it.
/// Arithmetic works on `Double`, as jq's does; a number made by a computation has no
/// literal and is formatted the way jq formats doubles (``JSONNumber/formatted``).
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
    /// Integers up to 1e17 print without a fraction or exponent (`3`, not `3.0`); other values
    /// use the shortest text that reads back to the same double (`0.30000000000000004`);
    /// exponents are written `1e+100` / `1e-07`. JSON has no NaN or infinity: NaN prints as
    /// `null`, infinities as ±`1.7976931348623157e+308` (jq's choice).
    package static func format(_ double: Double) -> String {
        if double.isNaN { return "null" }
        if double.isInfinite { return double < 0 ? "-1.7976931348623157e+308" : "1.7976931348623157e+308" }
        if double == 0 { return double.sign == .minus ? "-0" : "0" }
        if double.rounded(.towardZero) == double, abs(double) < 1e17 {
            return String(Int64(double))
        }
        var text = double.description  // shortest round-trip, e.g. "1e-07", "1.5e+20", "0.1"
        if let exponentIndex = text.firstIndex(of: "e") {
            var mantissa = String(text[..<exponentIndex])
            var exponent = String(text[text.index(after: exponentIndex)...])
            if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
            var sign = "+"
            if exponent.hasPrefix("-") { sign = "-"; exponent.removeFirst() } else if exponent.hasPrefix("+") { exponent.removeFirst() }
            if exponent.count < 2 { exponent = "0" + exponent }
            text = mantissa + "e" + sign + exponent
        } else if text.hasSuffix(".0") {
            text.removeLast(2)
        }
        return text
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
