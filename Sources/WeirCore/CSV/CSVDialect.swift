/// How a CSV file separates and quotes its fields: one delimiter byte and one quote byte.
///
/// Both are single ASCII bytes. Records end at a line break (`\n`, `\r\n`, or a `\r`
/// alone), so neither may be `\r` or `\n`, and they must differ. The default is RFC 4180's comma
/// and double quote; `tsv` is the same grammar with a tab (quoted fields still work, as in
/// spreadsheet exports, and writers quote a field holding a tab rather than mangling it).
package struct CSVDialect: Sendable, Equatable {
    /// The byte between fields (`,` by default).
    package var delimiter: UInt8
    /// The byte that opens and closes a quoted field and, doubled, stands for itself (`"`).
    package var quote: UInt8

    /// RFC 4180: comma and double quote.
    package static let csv = CSVDialect(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))

    /// Tab-separated values with double quotes.
    package static let tsv = CSVDialect(delimiter: 0x09, quote: UInt8(ascii: "\""))

    /// A dialect from its two bytes (checked by ``validate()``, not here).
    package init(delimiter: UInt8, quote: UInt8) {
        self.delimiter = delimiter
        self.quote = quote
    }

    /// The delimiters ``sniff(_:quote:)`` chooses from, in order of preference on a tie.
    static let sniffCandidates: [UInt8] = [
        UInt8(ascii: ","), 0x09, UInt8(ascii: ";"), UInt8(ascii: "|"), UInt8(ascii: ":"),
    ]

    /// Checks that the dialect is usable, returning a message for a usage error if not.
    package func validate() -> String? {
        for (name, byte) in [("delimiter", delimiter), ("quote", quote)] {
            if byte == 0x0A || byte == 0x0D { return "the \(name) cannot be a line break" }
            if byte >= 0x80 { return "the \(name) must be a single ASCII character" }
        }
        if delimiter == quote { return "the delimiter and the quote must differ" }
        return nil
    }

    /// Parses a command-line spelling of one delimiter or quote character.
    ///
    /// Accepts one ASCII character, or the escapes `\t`, `tab`, `\\`, `comma`, `semicolon`,
    /// `pipe` and `space` for characters awkward to type in a shell.
    package static func parseCharacter(_ text: String) -> UInt8? {
        switch text {
        case "\\t", "tab", "TAB", "\t": return 0x09
        case "comma": return UInt8(ascii: ",")
        case "semicolon": return UInt8(ascii: ";")
        case "pipe": return UInt8(ascii: "|")
        case "space": return UInt8(ascii: " ")
        case "\\\\": return UInt8(ascii: "\\")
        default:
            let utf8 = Array(text.utf8)
            guard utf8.count == 1, utf8[0] < 0x80 else { return nil }
            return utf8[0]
        }
    }

    /// Guesses the delimiter from the first records of a sample (whole records only).
    ///
    /// Each candidate splits the sample's first rows (quote-aware, up to 20); the winner is
    /// the candidate whose rows most often share the first row's field count, preferring
    /// more than one field, then more fields, then the order of ``sniffCandidates``.
    /// Returns `nil` when no candidate splits the first row at all.
    package static func sniff(_ sample: UnsafeRawBufferPointer, quote: UInt8 = UInt8(ascii: "\"")) -> UInt8? {
        var best: (delimiter: UInt8, consistent: Int, fields: Int)? = nil
        for candidate in sniffCandidates where candidate != quote {
            let counts = fieldCounts(sample, delimiter: candidate, quote: quote, maxRows: 20)
            guard let first = counts.first, first > 1 else { continue }
            let consistent = counts.filter { $0 == first }.count
            if let current = best, (consistent, first) <= (current.consistent, current.fields) { continue }
            best = (candidate, consistent, first)
        }
        return best?.delimiter
    }

    /// The number of fields in each of the first `maxRows` non-blank records of `sample`.
    private static func fieldCounts(_ sample: UnsafeRawBufferPointer, delimiter: UInt8, quote: UInt8, maxRows: Int) -> [Int] {
        var counts: [Int] = []
        var inQuotes = false
        var fields = 1
        var recordLength = 0
        var index = 0
        while index < sample.count, counts.count < maxRows {
            let byte = sample[index]
            index += 1
            if byte == quote {
                inQuotes.toggle()
            } else if !inQuotes {
                if byte == delimiter {
                    fields += 1
                } else if byte == 0x0A || (byte == 0x0D && (index == sample.count || sample[index] != 0x0A)) {
                    if recordLength > 0 { counts.append(fields) }
                    fields = 1
                    recordLength = 0
                    continue
                } else if byte == 0x0D {
                    continue
                }
            }
            recordLength += 1
        }
        // A final record without its line break counts only if nothing was cut short.
        if recordLength > 0, !inQuotes, counts.count < maxRows, index == sample.count { counts.append(fields) }
        return counts
    }
}

/// The class of each byte value for the CSV tokenizer's scanning loops, per dialect.
///
/// One table lookup per byte tells the loop whether it can keep going (`ordinary`) or
/// must look closer; the table is built once per dialect and shared read-only.
package final class CSVByteClasses: @unchecked Sendable {
    /// Plain ASCII that needs no attention.
    static let ordinary: UInt8 = 0
    /// The dialect's delimiter.
    package static let delimiter: UInt8 = 1
    /// The dialect's quote.
    package static let quote: UInt8 = 2
    /// `\n`.
    package static let newline: UInt8 = 3
    /// `\r`.
    static let carriageReturn: UInt8 = 4
    /// A byte that JSON must escape: other control characters, `"`, `\`, DEL.
    package static let escaped: UInt8 = 5
    /// The lead or continuation byte of a multi-byte UTF-8 sequence (validated separately).
    static let nonASCII: UInt8 = 6

    /// The 256-entry table.
    package let table: UnsafeMutablePointer<UInt8>

    /// Builds the table for `dialect`.
    package init(_ dialect: CSVDialect) {
        table = .allocate(capacity: 256)
        for byte in 0..<256 {
            let value: UInt8
            switch byte {
            case 0x0A: value = Self.newline
            case 0x0D: value = Self.carriageReturn
            case 0..<0x20, 0x22, 0x5C, 0x7F: value = Self.escaped
            case 0x80...: value = Self.nonASCII
            default: value = Self.ordinary
            }
            table[byte] = value
        }
        table[Int(dialect.delimiter)] = Self.delimiter
        table[Int(dialect.quote)] = Self.quote
    }

    deinit { table.deallocate() }
}

extension StageInvocation {
    /// The value of a one-character option (`-d`, `--quote`): one ASCII character or `\t`; a usage error otherwise.
    func csvCharacter(_ name: String, default defaultValue: UInt8) -> UInt8 {
        guard let text = options.value(name) else { return defaultValue }
        guard let byte = CSVDialect.parseCharacter(text) else {
            usageError("option '--\(name)' takes one ASCII character (or \\t), not '\(text)'")
        }
        return byte
    }
}
