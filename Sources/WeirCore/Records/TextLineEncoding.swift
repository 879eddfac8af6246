#if canImport(Glibc)
import Glibc
#endif

/// Turns a line of text into a JSON string: the per-line work of `weir-from-lines`.
///
/// The bytes are copied as they are except what JSON must escape (`"`, `\`, control
/// characters), so a line costs one scan: eight bytes at a time while they are plain ASCII.
/// Invalid UTF-8 (a stray byte, a truncated, overlong or surrogate sequence) is an error at
/// its column, or with `lossy` each maximal ill-formed subpart becomes one U+FFFD, as
/// `String(decoding:as:)`, Python's `errors="replace"` and the Unicode standard's recommended
/// practice do.
package enum TextLineEncoding {
    /// Appends `line` (UTF-8 text without its line end) to `output` as a quoted JSON string.
    package static func appendJSONString(_ line: UnsafeRawBufferPointer, lossy: Bool, into output: inout [UInt8]) throws(RecordError) {
        output.append(UInt8(ascii: "\""))
        let count = line.count
        guard count > 0, let raw = line.baseAddress else {
            output.append(UInt8(ascii: "\""))
            return
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var index = 0
        func flushRun(upTo end: Int) {
            if end > runStart { output.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: end &- runStart)) }
        }
        while index < count {
            while index &+ 8 <= count {
                let mask = JSONScan.stringSpecialMask(JSONScan.loadWord(base + index))
                if mask != 0 {
                    index &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                index &+= 8
            }
            guard index < count else { break }
            let byte = base[index]
            if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(base, count, at: index)
                if length > 0 {
                    index &+= length
                    continue
                }
                guard lossy else {
                    throw RecordError("invalid UTF-8: \(describeByte(byte)) (--lossy replaces bad bytes with U+FFFD)", column: index + 1)
                }
                flushRun(upTo: index)
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                index &+= maximalSubpartLength(base, count, at: index)
                runStart = index
            } else if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                flushRun(upTo: index)
                appendEscape(byte, into: &output)
                index &+= 1
                runStart = index
            } else {
                index &+= 1
            }
        }
        flushRun(upTo: count)
        output.append(UInt8(ascii: "\""))
    }

    /// The length (1–3) of the ill-formed sequence at `base[index]` that one U+FFFD replaces:
    /// its lead byte and the continuation bytes that could still have completed it.
    @inline(__always)
    static func maximalSubpartLength(_ base: UnsafePointer<UInt8>, _ count: Int, at index: Int) -> Int {
        let lead = base[index]
        let needed: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; low = 0xA0
        case 0xED: needed = 2; high = 0x9F
        case 0xE1...0xEF: needed = 2
        case 0xF0: needed = 3; low = 0x90
        case 0xF4: needed = 3; high = 0x8F
        case 0xF1...0xF3: needed = 3
        default: return 1
        }
        var length = 1
        while length <= needed, index &+ length < count {
            let next = base[index &+ length]
            guard next >= low && next <= high else { break }
            low = 0x80
            high = 0xBF
            length &+= 1
        }
        return length
    }

    /// Appends the JSON escape of a control character, `"` or `\`.
    @inline(__always)
    private static func appendEscape(_ byte: UInt8, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        default:
            output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
