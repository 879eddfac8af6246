/// ANSI colours for ``JSONPrettyPrinter``, as SGR parameter strings (`"1;30"`).
package struct JSONColors: Sendable, Equatable {
    /// Colour of `null`.
    package var null: String
    /// Colour of `false`.
    package var `false`: String
    /// Colour of `true`.
    package var `true`: String
    /// Colour of numbers.
    package var numbers: String
    /// Colour of string values.
    package var strings: String
    /// Colour of array brackets and their commas.
    package var arrays: String
    /// Colour of object braces, commas and colons.
    package var objects: String
    /// Colour of object keys.
    package var objectKeys: String

    /// jq's default colours (`JQ_COLORS` unset): null 1;30, false/true/numbers 0;39,
    /// strings 0;32, arrays/objects 1;39, object keys 34;1.
    package static let jq = JSONColors(
        null: "1;30", false: "0;39", true: "0;39", numbers: "0;39",
        strings: "0;32", arrays: "1;39", objects: "1;39", objectKeys: "34;1"
    )

    /// Colours from explicit SGR strings.
    package init(null: String, false: String, true: String, numbers: String, strings: String, arrays: String, objects: String, objectKeys: String) {
        self.null = null
        self.false = `false`
        self.true = `true`
        self.numbers = numbers
        self.strings = strings
        self.arrays = arrays
        self.objects = objects
        self.objectKeys = objectKeys
    }
}

/// Indents JSON text the way `jq .` does, for `weir-to-json --pretty`.
///
/// It works on the bytes of a text that is already valid (``JSONCompactor`` checked it), so
/// string bytes and number literals are copied exactly as they are; whitespace in the input
/// is ignored. Output: `indent` spaces per level, `"key": value`, one element per line,
/// `{}` and `[]` for empty containers; no trailing newline. An `indent` of 0 gives the
/// compact form. With `colors`, every token is wrapped in its SGR colour and a reset.
/// Invalid input gives unspecified (but memory-safe) output.
package enum JSONPrettyPrinter {
    /// Appends the indented form of `compactValidText` to `output`.
    package static func format(
        _ compactValidText: UnsafeRawBufferPointer,
        indent: Int = 2,
        colors: JSONColors? = nil,
        into output: inout [UInt8]
    ) {
        let base = JSONScan.base(of: compactValidText)
        let count = compactValidText.count
        var printer = Printer(base: base, count: count, indent: max(0, indent), colors: colors)
        printer.run(into: &output)
    }

    /// Returns the indented form of a valid JSON text held in a `String`.
    package static func format(_ text: String, indent: Int = 2, colors: JSONColors? = nil) -> String {
        var text = text
        var output: [UInt8] = []
        text.withUTF8 { format(UnsafeRawBufferPointer($0), indent: indent, colors: colors, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    private struct Printer {
        let base: UnsafePointer<UInt8>
        let count: Int
        let indent: Int
        let colors: JSONColors?
        var position = 0
        var depth = 0
        /// Container kinds, innermost last (true for objects), to colour commas.
        var containers: [Bool] = []

        init(base: UnsafePointer<UInt8>, count: Int, indent: Int, colors: JSONColors?) {
            self.base = base
            self.count = count
            self.indent = indent
            self.colors = colors
        }

        mutating func skipWhitespace() {
            while position < count, JSONScan.isWhitespace(base[position]) { position += 1 }
        }

        func newLine(into output: inout [UInt8]) {
            guard indent > 0 else { return }
            output.append(0x0A)
            output.append(contentsOf: repeatElement(0x20, count: max(0, depth) * indent))
        }

        func colored(_ color: String?, into output: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
            guard let color else {
                body(&output)
                return
            }
            output.append(contentsOf: [0x1B, UInt8(ascii: "[")])
            output.append(contentsOf: color.utf8)
            output.append(UInt8(ascii: "m"))
            body(&output)
            output.append(contentsOf: [0x1B, UInt8(ascii: "["), UInt8(ascii: "0"), UInt8(ascii: "m")])
        }

        func punctuation(_ byte: UInt8, isObject: Bool, into output: inout [UInt8]) {
            colored(isObject ? colors?.objects : colors?.arrays, into: &output) { $0.append(byte) }
        }

        mutating func run(into output: inout [UInt8]) {
            while true {
                skipWhitespace()
                guard position < count else { return }
                let byte = base[position]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = byte == UInt8(ascii: "{")
                    position += 1
                    skipWhitespace()
                    if position < count, base[position] == byte + 2 {  // '}' is '{' + 2, ']' is '[' + 2
                        position += 1
                        colored(isObject ? colors?.objects : colors?.arrays, into: &output) {
                            $0.append(byte)
                            $0.append(byte + 2)
                        }
                    } else {
                        punctuation(byte, isObject: isObject, into: &output)
                        containers.append(isObject)
                        depth += 1
                        newLine(into: &output)
                    }
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    position += 1
                    let isObject = containers.popLast() ?? (byte == UInt8(ascii: "}"))
                    depth -= 1
                    newLine(into: &output)
                    punctuation(byte, isObject: isObject, into: &output)
                case UInt8(ascii: ","):
                    position += 1
                    punctuation(byte, isObject: containers.last ?? false, into: &output)
                    newLine(into: &output)
                case UInt8(ascii: ":"):
                    position += 1
                    punctuation(byte, isObject: true, into: &output)
                    if indent > 0 { output.append(0x20) }
                case UInt8(ascii: "\""):
                    let start = position
                    position += 1
                    while position < count, base[position] != UInt8(ascii: "\"") {
                        position += base[position] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    position = min(position + 1, count)
                    let end = position
                    var next = position
                    while next < count, JSONScan.isWhitespace(base[next]) { next += 1 }
                    let isKey = next < count && base[next] == UInt8(ascii: ":")
                    colored(isKey ? colors?.objectKeys : colors?.strings, into: &output) {
                        $0.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
                    }
                default:
                    let start = position
                    while position < count {
                        let scalarByte = base[position]
                        if JSONScan.isWhitespace(scalarByte) || scalarByte == UInt8(ascii: ",") || scalarByte == UInt8(ascii: "]")
                            || scalarByte == UInt8(ascii: "}") || scalarByte == UInt8(ascii: ":") || scalarByte == UInt8(ascii: "\"")
                            || scalarByte == UInt8(ascii: "[") || scalarByte == UInt8(ascii: "{") { break }
                        position += 1
                    }
                    if position == start { position += 1 }  // not valid JSON: move on regardless
                    let color: String? = switch byte {
                    case UInt8(ascii: "n"): colors?.null
                    case UInt8(ascii: "t"): colors?.true
                    case UInt8(ascii: "f"): colors?.false
                    default: colors?.numbers
                    }
                    colored(color, into: &output) {
                        $0.append(contentsOf: UnsafeBufferPointer(start: base + start, count: position - start))
                    }
                }
            }
        }
    }
}
