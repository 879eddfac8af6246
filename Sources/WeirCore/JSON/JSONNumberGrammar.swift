/// The RFC 8259 number grammar, once: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
///
/// ``JSONScan`` validates JSON numbers with it (and turns a failure into its message) and
/// ``CSVNumberSyntax`` infers numbers in CSV fields with it (with `,` as the decimal point
/// under `--decimal-comma`), so the two can never disagree on what a number is.
package enum JSONNumberGrammar {
    /// What is missing or wrong where a number stops matching.
    package enum Failure: Sendable, Equatable {
        /// No digit where the integer part must start (after `-`, or at the start).
        case integerDigit
        /// A digit after a leading `0`.
        case leadingZero
        /// No digit after the decimal point.
        case fractionDigit
        /// No digit in the exponent (after `e`, `E` and an optional sign).
        case exponentDigit
    }

    /// The outcome of ``match(_:_:_:separator:)``.
    package enum Match: Sendable, Equatable {
        /// A number runs from the start to `end` (exclusive); what follows is not part of it.
        case number(end: Int)
        /// The text is not a number: `failure` at byte `offset`.
        case failure(Failure, offset: Int)
    }

    /// Matches the longest number at `base[start]`, reading no further than `end`;
    /// `separator` is the decimal point.
    @inline(__always)
    package static func match(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, separator: UInt8 = UInt8(ascii: ".")) -> Match {
        var index = start
        if index < end, base[index] == UInt8(ascii: "-") { index &+= 1 }
        guard index < end, isDigit(base[index]) else { return .failure(.integerDigit, offset: index) }
        if base[index] == UInt8(ascii: "0") {
            index &+= 1
            if index < end, isDigit(base[index]) { return .failure(.leadingZero, offset: index) }
        } else {
            repeat { index &+= 1 } while index < end && isDigit(base[index])
        }
        if index < end, base[index] == separator {
            index &+= 1
            guard index < end, isDigit(base[index]) else { return .failure(.fractionDigit, offset: index) }
            repeat { index &+= 1 } while index < end && isDigit(base[index])
        }
        if index < end, base[index] | 0x20 == UInt8(ascii: "e") {
            index &+= 1
            if index < end, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index &+= 1 }
            guard index < end, isDigit(base[index]) else { return .failure(.exponentDigit, offset: index) }
            repeat { index &+= 1 } while index < end && isDigit(base[index])
        }
        return .number(end: index)
    }

    /// True for an ASCII digit.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }
}
