import WeirCore

/// Values as text the way jq 1.8 turns them into strings: `tostring`, `tojson`, string
/// interpolation, the `@` formats, `debug` and error messages.
///
/// jq 1.8 keeps a number literal as a decNumber and, when it prints one, writes decNumber's
/// canonical form rather than the bytes it read: `1E2` becomes `1E+2`, `0.0000001` becomes
/// `1E-7`, while `1.10` and `100000000000000000001` stay as they are. A stage's own output is
/// not this text: there an untouched literal is written byte for byte (``JSONWriter``).
enum ValueText {
    /// The compact JSON text of `value`, number literals in canonical form.
    static func json(_ value: JSONValue) -> String {
        var output: [UInt8] = []
        write(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the compact JSON text of `value` to `output`.
    static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .number(let number): output.append(contentsOf: text(of: number).utf8)
        case .array(let array):
            output.append(UInt8(ascii: "["))
            for (position, element) in array.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        default:
            JSONWriter.write(value, into: &output)
        }
    }

    /// A number's text: a literal in decNumber's to-scientific-string form, a computed number
    /// as jq formats doubles (``JSONNumber/format(_:)``).
    static func text(of number: JSONNumber) -> String {
        guard let literal = number.literal else { return JSONNumber.format(number.double) }
        return canonical(literal) ?? JSONNumber.format(number.double)
    }

    /// decNumber's canonical text of a number literal, or `nil` when decNumber could not hold
    /// it (an exponent beyond ±999,999,999: jq then prints the double).
    ///
    /// The literal is a coefficient (its digits without the point, leading zeros dropped) and an
    /// exponent. With `adjusted` the exponent of the first digit, the number is written plainly
    /// when the exponent is at most 0 and `adjusted` at least -6 (`0.000001`, `1.10`, `-0`),
    /// else as `d.dddE±n` (`1E+2`, `1.2E+6`, `1E-7`, `0E+5`).
    static func canonical(_ literal: String) -> String? {
        var bytes = Array(literal.utf8)
        // The common case, an integer written without leading zeros, is already canonical.
        if bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") || $0 == UInt8(ascii: "-") }),
           let firstDigit = bytes.firstIndex(where: { $0 != UInt8(ascii: "-") }),
           bytes[firstDigit] != UInt8(ascii: "0") || bytes.count == firstDigit + 1 {
            return literal
        }
        var negative = false
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
            negative = bytes.first == UInt8(ascii: "-")
            bytes.removeFirst()
        }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var index = 0
        var seenPoint = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
            if bytes[index] == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                guard bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
                digits.append(bytes[index])
                if seenPoint { fractionDigits += 1 }
            }
            index += 1
        }
        guard !digits.isEmpty else { return nil }
        var exponent = 0
        if index < bytes.count {
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < bytes.count else { return nil }
            while index < bytes.count {
                guard bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
                exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                guard exponent < 4_000_000_000 else { return nil }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        exponent -= fractionDigits
        let firstNonZero = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) ?? digits.count - 1
        let coefficient = digits[firstNonZero...]
        let adjusted = exponent + coefficient.count - 1
        guard adjusted <= 999_999_999, adjusted >= -999_999_999 else { return nil }
        var text: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        if exponent <= 0 && adjusted >= -6 {
            let integerCount = coefficient.count + exponent
            if exponent == 0 {
                text.append(contentsOf: coefficient)
            } else if integerCount > 0 {
                text.append(contentsOf: coefficient.prefix(integerCount))
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: coefficient.dropFirst(integerCount))
            } else {
                text.append(contentsOf: "0.".utf8)
                text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -integerCount))
                text.append(contentsOf: coefficient)
            }
        } else {
            text.append(coefficient.first!)
            if coefficient.count > 1 {
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: coefficient.dropFirst())
            }
            text.append(contentsOf: (adjusted >= 0 ? "E+" : "E-").utf8)
            text.append(contentsOf: String(abs(adjusted)).utf8)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
