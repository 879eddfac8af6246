import Testing
@testable import WeirCore

/// The one RFC 8259 number grammar behind JSON validation and CSV number inference.
@Suite struct JSONNumberGrammarTests {
    func match(_ text: String, separator: UInt8 = UInt8(ascii: ".")) -> JSONNumberGrammar.Match {
        let bytes = Array(text.utf8) + [0]  // a byte past the end that must never be read as part of it
        return bytes.withUnsafeBufferPointer { JSONNumberGrammar.match($0.baseAddress!, 0, bytes.count - 1, separator: separator) }
    }

    @Test func wholeNumbers() {
        for text in ["0", "-0", "7", "-12", "0.5", "0.5e-3", "1E+2", "1e2", "-0.0e+5", "13911860366432393", "1e999999999999", "1.5E-0999999"] {
            #expect(match(text) == .number(end: text.utf8.count), "\(text)")
        }
    }

    @Test func aNumberStopsWhereItsGrammarDoes() {
        #expect(match("1,2") == .number(end: 1))
        #expect(match("1]") == .number(end: 1))
        #expect(match("0x1") == .number(end: 1))
        #expect(match("-0 ") == .number(end: 2))
        #expect(match("1.5.") == .number(end: 3))
    }

    @Test func failures() {
        #expect(match("01") == .failure(.leadingZero, offset: 1))
        #expect(match("-00") == .failure(.leadingZero, offset: 2))
        #expect(match(".5") == .failure(.integerDigit, offset: 0))
        #expect(match("1.") == .failure(.fractionDigit, offset: 2))
        #expect(match("1.e5") == .failure(.fractionDigit, offset: 2))
        #expect(match("-") == .failure(.integerDigit, offset: 1))
        #expect(match("-x") == .failure(.integerDigit, offset: 1))
        #expect(match("+1") == .failure(.integerDigit, offset: 0))
        #expect(match("1e") == .failure(.exponentDigit, offset: 2))
        #expect(match("1e+") == .failure(.exponentDigit, offset: 3))
        #expect(match("1E-x") == .failure(.exponentDigit, offset: 3))
        #expect(match("") == .failure(.integerDigit, offset: 0))
    }

    @Test func decimalComma() {
        let comma = UInt8(ascii: ",")
        #expect(match("2,50", separator: comma) == .number(end: 4))
        #expect(match("2.50", separator: comma) == .number(end: 1))
        #expect(match("2,", separator: comma) == .failure(.fractionDigit, offset: 2))
        #expect(match("-0,5e-3", separator: comma) == .number(end: 7))
    }

    /// The two users: JSON validation messages, and CSV inference of exact numbers.
    @Test func bothUsersAgree() {
        for (text, isNumber) in [("-0", true), ("0.5e-3", true), ("1E+2", true), ("01", false), (".5", false), ("1.", false), ("-", false),
                                 ("+1", false), ("1e", false), ("1e999999999999", true), ("1 ", false), ("", false)] {
            let bytes = Array(text.utf8)
            let csv = bytes.withUnsafeBufferPointer { buffer in
                buffer.isEmpty ? false : CSVNumberSyntax.isJSONNumber(buffer.baseAddress!, 0, buffer.count)
            }
            let json = bytes.withUnsafeBytes { (try? JSONCompactor.validate($0)) != nil }
            #expect(csv == isNumber, "\(text)")
            if !text.isEmpty, text != "1 " { #expect(json == isNumber, "\(text)") }
        }
        #expect(Array("2,5".utf8).withUnsafeBufferPointer { CSVNumberSyntax.isJSONNumber($0.baseAddress!, 0, 3, separator: UInt8(ascii: ",")) })
        // JSON validation turns each failure into its message at its offset.
        for (text, message, offset) in [("1.", "unexpected end of input, expected a digit after the decimal point", 2),
                                        ("01", "leading zeros are not allowed in a number", 1), ("-", "unexpected end of input, expected a digit", 1),
                                        ("1e", "unexpected end of input, expected a digit in the exponent", 2), ("[1.]", "unexpected ']', expected a digit after the decimal point", 3)] {
            let error: JSONError? = Array(text.utf8).withUnsafeBytes { raw in
                do throws(JSONError) { try JSONCompactor.validate(raw); return nil } catch { return error }
            }
            #expect(error == JSONError(offset: offset, message: message), "\(text)")
        }
    }
}
