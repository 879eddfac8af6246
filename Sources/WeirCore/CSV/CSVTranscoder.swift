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
    /// UTF-16, little-endian (a leading BOM is dropped; one for big-endian is a problem).
    case utf16LE = "utf-16le"
    /// UTF-16, big-endian (a leading BOM is dropped; one for little-endian is a problem).
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

/// Something in the input that its declared encoding cannot read, and where (the byte
/// offset in the file).
///
/// The transcoder does not stop at a problem: it writes a marker into its UTF-8 output in
/// place of the bytes it could not read and goes on. The marker starts with 0xFF, a byte
/// that is never UTF-8 and that transcoded text holds nowhere else, and contains no ASCII
/// byte, so framing and field splitting pass it by; the tokenizer then stops at it as
/// invalid UTF-8 and reports it (``init(marker:at:)`` reads it back) as a bad record with
/// its row, line, column and field, under `--errors` and `--reject` like any other. The
/// runtime's decoders can only fail a whole file, which would lose the good rows around
/// the problem and ignore `--errors`.
package struct CSVTranscodingProblem: Sendable, Equatable {
    /// What the input has that the encoding cannot read.
    package enum Kind: UInt8, Sendable, CaseIterable {
        /// A high surrogate not followed by a low one (or at the end of the file).
        case unpairedHighSurrogate
        /// A low surrogate without a high one before it.
        case unpairedLowSurrogate
        /// The file ends in the middle of a two-byte code unit.
        case oddByteCount
        /// A byte order mark for the other byte order than the one declared.
        case byteOrderMarkMismatch
        /// U+0A00, unassigned, which is what a line feed is in the other byte order.
        case swappedLineFeed
    }

    /// What was wrong.
    package var kind: Kind
    /// Byte offset within the file (0-based).
    package var offset: Int

    /// A problem at `offset`.
    package init(_ kind: Kind, offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// Appends the marker standing for this problem: 0xFF, a byte `10nnnkkk` (the kind,
    /// and the number of offset groups less one), then the offset in groups of six bits
    /// (`10xxxxxx`, low bits first), so that a small offset makes a short marker.
    package func appendMarker(into output: inout [UInt8]) {
        var groups = 1
        while groups < 8 && offset >> (6 * groups) != 0 { groups += 1 }
        output.append(0xFF)
        output.append(0x80 | UInt8(groups - 1) << 3 | kind.rawValue)
        for group in 0..<groups { output.append(0x80 | UInt8(truncatingIfNeeded: offset >> (6 * group)) & 0x3F) }
    }

    /// The problem whose marker starts at `index` in `bytes` and its length, or nil when there is none.
    private static func readMarker(_ bytes: UnsafeRawBufferPointer, at index: Int) -> (problem: CSVTranscodingProblem, length: Int)? {
        guard index + 3 <= bytes.count, bytes[index] == 0xFF, bytes[index + 1] & 0xC0 == 0x80,
              let kind = Kind(rawValue: bytes[index + 1] & 0x07) else { return nil }
        let groups = Int(bytes[index + 1] >> 3 & 0x07) + 1
        guard index + 2 + groups <= bytes.count else { return nil }
        var offset = 0
        for group in 0..<groups {
            let byte = bytes[index + 2 + group]
            guard byte & 0xC0 == 0x80 else { return nil }
            offset |= Int(byte & 0x3F) << (6 * group)
        }
        return (CSVTranscodingProblem(kind, offset: offset), 2 + groups)
    }

    /// The problem whose marker starts at `index` in `bytes`, or nil when there is none.
    package init?(marker bytes: UnsafeRawBufferPointer, at index: Int) {
        guard let (problem, _) = Self.readMarker(bytes, at: index) else { return nil }
        self = problem
    }

    /// `bytes` with each marker replaced by U+FFFD, for showing a bad record.
    package static func replacingMarkers(in bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0xFF, let (_, length) = readMarker(bytes, at: index) {
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                index += length
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// What was wrong, in words, for a file read as `encoding`.
    package func message(_ encoding: CSVEncoding) -> String {
        let name = encoding.rawValue
        let other = encoding == .utf16BE ? "little" : "big"
        let otherName = encoding == .utf16BE ? "utf-16le" : "utf-16be"
        switch kind {
        case .unpairedHighSurrogate:
            return "not \(name): a high surrogate without a low one after it (byte \(offset) of the file)"
        case .unpairedLowSurrogate:
            return "not \(name): a low surrogate without a high one before it (byte \(offset) of the file)"
        case .oddByteCount:
            return "not \(name): the file ends in the middle of a two-byte code unit (byte \(offset) of the file)"
        case .byteOrderMarkMismatch:
            return "the file starts with a \(other)-endian byte order mark, not \(name) (use --encoding \(otherName), or utf-16 to follow the mark)"
        case .swappedLineFeed:
            return "not \(name): U+0A00 is a line feed with its bytes swapped, so the file looks \(other)-endian (byte \(offset) of the file; use --encoding \(otherName))"
        }
    }
}

/// Turns a byte stream in one of the ``CSVEncoding``s into UTF-8, piece by piece.
///
/// Pieces may split a UTF-16 code unit or surrogate pair anywhere; the transcoder keeps
/// the incomplete tail for the next call. What UTF-16 input cannot say (an unpaired
/// surrogate, a truncated final code unit, a byte order mark for the other byte order than
/// declared, a line feed with its bytes swapped) is never replaced: it becomes a
/// ``CSVTranscodingProblem`` marker in the output, for the tokenizer to report as a bad
/// record. UTF-8 input is passed through with its BOM removed (validation is the
/// tokenizer's job, where the error can name a row and field).
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

    /// Appends the UTF-8 form of `input` to `output`, with a ``CSVTranscodingProblem``
    /// marker where it cannot be read (an incomplete sequence at the end of the input, too).
    package mutating func transcode(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) {
        switch encoding {
        case .utf8:
            passUTF8(input, isEndOfInput: isEndOfInput, into: &output)
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
            transcodeUTF16(input, isEndOfInput: isEndOfInput, into: &output)
        }
    }

    private mutating func passUTF8(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) {
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

    private mutating func transcodeUTF16(_ input: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) {
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
                let littleEndianMark = bytes[0] == 0xFF && bytes[1] == 0xFE, bigEndianMark = bytes[0] == 0xFE && bytes[1] == 0xFF
                if littleEndianMark || bigEndianMark {
                    if encoding == .utf16 { bigEndian = bigEndianMark }
                    if bigEndianMark != bigEndian {
                        // The mark says the file is in the other byte order: read on as declared, but say so.
                        CSVTranscodingProblem(.byteOrderMarkMismatch, offset: 0).appendMarker(into: &output)
                    }
                    index = 2
                } else if encoding == .utf16 {
                    bigEndian = bytes[0] == 0 && bytes[1] != 0
                }
            }
        }
        output.reserveCapacity(output.count + bytes.count / 2 * 3 / 2)
        while index + 2 <= bytes.count {
            let unit = bigEndian ? UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1]) : UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index])
            if let high = pendingHighSurrogate {
                pendingHighSurrogate = nil
                if unit >= 0xDC00 && unit < 0xE000 {
                    UTF8Validation.appendScalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), into: &output)
                    index += 2
                    continue
                }
                CSVTranscodingProblem(.unpairedHighSurrogate, offset: startOffset + index - 2).appendMarker(into: &output)
            }
            if unit >= 0xD800 && unit < 0xDC00 {
                pendingHighSurrogate = unit
            } else if unit >= 0xDC00 && unit < 0xE000 {
                CSVTranscodingProblem(.unpairedLowSurrogate, offset: startOffset + index).appendMarker(into: &output)
            } else if unit == 0x0A00 {
                CSVTranscodingProblem(.swappedLineFeed, offset: startOffset + index).appendMarker(into: &output)
            } else {
                UTF8Validation.appendScalar(unit, into: &output)
            }
            index += 2
        }
        pending = Array(bytes[index...])
        offset += input.count
        if isEndOfInput {
            if pendingHighSurrogate != nil {
                pendingHighSurrogate = nil
                CSVTranscodingProblem(.unpairedHighSurrogate, offset: offset - pending.count - 2).appendMarker(into: &output)
            }
            if !pending.isEmpty {
                CSVTranscodingProblem(.oddByteCount, offset: offset - pending.count).appendMarker(into: &output)
                pending.removeAll()
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
