/// The text encodings a CSV file may be read in; everything is turned into UTF-8 first.
package enum CSVEncoding: String, Sendable, CaseIterable {
    /// UTF-8 (validated by the tokenizer, never repaired).
    case utf8 = "utf-8"
    /// ISO 8859-1: every byte is the code point of the same value.
    case latin1
    /// Windows code page 1252: Latin-1 with printable characters in 0x80–0x9F (€, „, …);
    /// its five unassigned bytes map to the C1 controls of the same value, as the WHATWG
    /// Encoding Standard does, so no byte is lost.
    case windows1252 = "windows-1252"
    /// UTF-16 with a byte order mark, or little-endian without one (a first code unit of
    /// the form `00 xx` is taken as big-endian instead).
    case utf16 = "utf-16"
    /// UTF-16, little-endian (a leading BOM is dropped).
    case utf16LE = "utf-16le"
    /// UTF-16, big-endian (a leading BOM is dropped).
    case utf16BE = "utf-16be"

    /// Reads a command-line spelling: case-insensitive, with aliases (`utf8`, `iso-8859-1`,
    /// `cp1252`, `utf16`, …).
    package init?(label: String) {
        switch label.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1": self = .latin1
        case "windows-1252", "cp1252", "windows1252": self = .windows1252
        case "utf-16", "utf16": self = .utf16
        case "utf-16le", "utf16le": self = .utf16LE
        case "utf-16be", "utf16be": self = .utf16BE
        default: return nil
        }
    }
}

/// Why input could not be transcoded: the byte offset in the file and what was wrong.
package struct CSVTranscodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset within the file (0-based).
    package var offset: Int
    /// What was wrong.
    package var message: String
    /// An error at `offset`.
    package init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    /// `at byte N: message`.
    package var description: String { "at byte \(offset): \(message)" }
}

/// Turns a byte stream in one of the ``CSVEncoding``s into UTF-8, piece by piece.
///
/// Pieces may split a UTF-16 code unit or surrogate pair anywhere; the transcoder keeps
/// the incomplete tail for the next call. Unpaired surrogates and a truncated final code
/// unit are errors, never replaced. UTF-8 input is passed through with its BOM removed
/// (validation is the tokenizer's job, where the error can name a row and field).
package struct CSVTranscoder: Sendable {
    /// The source encoding.
    package let encoding: CSVEncoding
    private var bigEndian: Bool
    private var atFileStart = true
    private var pending: [UInt8] = []
    private var pendingHighSurrogate: UInt32? = nil
    private var offset = 0

    /// A transcoder from `encoding`.
    package init(_ encoding: CSVEncoding) {
        self.encoding = encoding
        self.bigEndian = encoding == .utf16BE
    }

    /// Starts a new file (BOM detection and offsets start over).
    package mutating func beginFile() {
        atFileStart = true
        pending.removeAll()
        pendingHighSurrogate = nil
        offset = 0
        bigEndian = encoding == .utf16BE
    }

    /// Appends the UTF-8 form of `input` to `output`; at end of input an incomplete
    /// sequence is an error.
    package mutating func transcode(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) throws(CSVTranscodingError) {
        switch encoding {
        case .utf8:
            try passUTF8(input, isEndOfInput: isEndOfInput, into: &output)
        case .latin1:
            output.reserveCapacity(output.count + input.count + input.count / 4)
            for byte in input { Self.appendLatin1(UInt32(byte), into: &output) }
            offset += input.count
        case .windows1252:
            output.reserveCapacity(output.count + input.count + input.count / 4)
            for byte in input {
                let scalar = byte >= 0x80 && byte < 0xA0 ? Self.windows1252High[Int(byte - 0x80)] : UInt32(byte)
                UTF8Validation.appendScalar(scalar, into: &output)
            }
            offset += input.count
        case .utf16, .utf16LE, .utf16BE:
            try transcodeUTF16(input, isEndOfInput: isEndOfInput, into: &output)
        }
    }

    private mutating func passUTF8(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) throws(CSVTranscodingError) {
        var bytes = input[...]
        if atFileStart {
            let combined = pending + Array(bytes.prefix(3 - pending.count))
            if combined.count < 3 && !isEndOfInput && combined == Array([0xEF, 0xBB, 0xBF].prefix(combined.count)) {
                pending = combined
                offset += input.count
                return
            }
            atFileStart = false
            let hadPending = pending.count
            pending.removeAll()
            if combined.count >= 3, combined[0] == 0xEF, combined[1] == 0xBB, combined[2] == 0xBF {
                bytes = bytes.dropFirst(3 - hadPending)
            } else {
                output.append(contentsOf: combined.prefix(hadPending))
            }
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes))
        offset += input.count
    }

    private mutating func transcodeUTF16(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) throws(CSVTranscodingError) {
        var bytes = pending
        bytes.append(contentsOf: input)
        let startOffset = offset - pending.count
        pending.removeAll()
        var index = 0
        if atFileStart {
            if bytes.count < 2 && !isEndOfInput {
                pending = bytes
                offset += input.count
                return
            }
            atFileStart = false
            if bytes.count >= 2 {
                if bytes[0] == 0xFF && bytes[1] == 0xFE {
                    if encoding == .utf16 { bigEndian = false }
                    if !bigEndian { index = 2 }
                } else if bytes[0] == 0xFE && bytes[1] == 0xFF {
                    if encoding == .utf16 { bigEndian = true }
                    if bigEndian { index = 2 }
                } else if encoding == .utf16 {
                    bigEndian = bytes[0] == 0 && bytes[1] != 0
                }
            }
        }
        output.reserveCapacity(output.count + bytes.count / 2 * 3 / 2)
        while index + 2 <= bytes.count {
            let unit = bigEndian ? UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1]) : UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index])
            if let high = pendingHighSurrogate {
                guard unit >= 0xDC00 && unit < 0xE000 else {
                    throw CSVTranscodingError(offset: startOffset + index - 2, message: "unpaired UTF-16 high surrogate")
                }
                pendingHighSurrogate = nil
                UTF8Validation.appendScalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), into: &output)
            } else if unit >= 0xD800 && unit < 0xDC00 {
                pendingHighSurrogate = unit
            } else if unit >= 0xDC00 && unit < 0xE000 {
                throw CSVTranscodingError(offset: startOffset + index, message: "unpaired UTF-16 low surrogate")
            } else {
                UTF8Validation.appendScalar(unit, into: &output)
            }
            index += 2
        }
        pending = Array(bytes[index...])
        offset += input.count
        if isEndOfInput {
            if !pending.isEmpty {
                throw CSVTranscodingError(offset: offset - pending.count, message: "the input ends in the middle of a UTF-16 code unit")
            }
            if pendingHighSurrogate != nil {
                throw CSVTranscodingError(offset: offset - 2, message: "unpaired UTF-16 high surrogate at the end of the input")
            }
        }
    }

    @inline(__always)
    private static func appendLatin1(_ scalar: UInt32, into output: inout [UInt8]) {
        if scalar < 0x80 {
            output.append(UInt8(scalar))
        } else {
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Code points of windows-1252 bytes 0x80–0x9F (unassigned bytes map to themselves).
    private static let windows1252High: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}
