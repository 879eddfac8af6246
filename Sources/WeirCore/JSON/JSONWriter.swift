/// Writes ``JSONValue``s as compact JSON text, appending UTF-8 bytes to a buffer.
///
/// Output is always valid JSON: control characters are escaped (`\n`, `\u001f`), `/` is
/// not, non-ASCII text is written as UTF-8, object key order is kept and numbers use
/// their literal text when they have one (``JSONNumber/text``).
package enum JSONWriter {
    /// Appends the compact text of `value` to `output`.
    package static func write(_ value: JSONValue, into output: inout [UInt8]) {
        _ = write(value, room: .max, into: &output)
    }

    /// Appends the compact text of `value` when it nests at most `maxDepth` levels, the most
    /// the reader accepts by default, so the next stage can read what this one writes; false
    /// (and `output` as it was) when it nests deeper.
    package static func write(_ value: JSONValue, maxDepth: Int, into output: inout [UInt8]) -> Bool {
        let start = output.count
        guard write(value, room: maxDepth, into: &output) else {
            output.removeSubrange(start...)
            return false
        }
        return true
    }

    /// The recursive writer: `room` is how many more levels may open.
    private static func write(_ value: JSONValue, room: Int, into output: inout [UInt8]) -> Bool {
        switch value {
        case .null: output.append(contentsOf: nullBytes)
        case .bool(let flag): output.append(contentsOf: flag ? trueBytes : falseBytes)
        case .number(let number): writeNumber(number, into: &output)
        case .string(let string): writeString(string, into: &output)
        case .array(let array):
            guard room > 0 else { return false }
            output.append(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                guard write(element, room: room - 1, into: &output) else { return false }
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard room > 0 else { return false }
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                guard write(element, room: room - 1, into: &output) else { return false }
            }
            output.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// The compact JSON text of `value` as a `String`.
    package static func string(_ value: JSONValue) -> String {
        var output: [UInt8] = []
        write(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends a number's text (its literal, or jq's formatting of the double).
    static func writeNumber(_ number: JSONNumber, into output: inout [UInt8]) {
        output.append(contentsOf: number.text.utf8)
    }

    /// Appends `string` as a quoted JSON string.
    package static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let count = utf8.count
            var runStart = 0
            var index = 0
            while index < count {
                let byte = base[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F else {
                    index &+= 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index &- runStart))
                index &+= 1
                runStart = index
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
                    output.append(UInt8(ascii: "u"))
                    output.append(UInt8(ascii: "0"))
                    output.append(UInt8(ascii: "0"))
                    output.append(hexDigit(byte >> 4))
                    output.append(hexDigit(byte & 0x0F))
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count &- runStart))
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value.
    package var description: String { JSONWriter.string(self) }
}
