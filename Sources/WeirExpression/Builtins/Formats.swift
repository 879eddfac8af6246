import WeirCore

extension Builtins {
    /// `format(name)`: the `@name` formats as a function.
    static var formatBuiltins: [String: Builtin] {
        [
            "format/1": .values { value, arguments in
                guard case .string(let name) = arguments[0] else { throw typeError(arguments[0], "is not a valid format") }
                guard Parser.supportedFormats.contains(name) else { throw EvaluationError("\(name) is not a valid format") }
                return try Formats.apply(name, value)
            },
            "tojson/0": .unary { .string(ValueText.json($0)) },
        ]
    }
}

/// The `@text @json @csv @tsv @html @uri @urid @sh @base64 @base64d` formats.
enum Formats {
    /// Applies a format to a value.
    static func apply(_ name: String, _ value: JSONValue) throws -> JSONValue {
        switch name {
        case "text": return Builtins.toString(value)
        case "json": return .string(ValueText.json(value))
        case "html": return .string(html(text(value)))
        case "uri": return .string(uri(text(value)))
        case "urid": return .string(try uriDecode(text(value)))
        case "csv": return .string(try row(value, csv: true))
        case "tsv": return .string(try row(value, csv: false))
        case "sh": return .string(try shell(value))
        case "base64": return .string(base64(Array(text(value).utf8)))
        case "base64d": return .string(try base64Decode(text(value)))
        default: throw EvaluationError("\(name) is not a valid format")
        }
    }

    private static func text(_ value: JSONValue) -> String {
        if case .string(let string) = value { return string }
        return ValueText.json(value)
    }

    private static func html(_ text: String) -> String {
        var result = ""
        for character in text.unicodeScalars {
            switch character {
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            case "'": result += "&apos;"
            case "\"": result += "&quot;"
            case "\0": result += "\\0"  // jq writes NUL as `\0` in @html, @csv, @tsv and @sh
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    private static func uri(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return result
    }

    private static func uriDecode(_ text: String) throws -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        let invalid = EvaluationError("\(ValueOperations.describe(.string(text))) is not a valid uri encoding")
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count + 0, index + 2 <= bytes.count - 1 || index + 2 == bytes.count - 1 + 0,
                      index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else { throw invalid }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        guard let decoded = String(validating: output, as: UTF8.self) else { throw invalid }
        return decoded
    }

    private static func row(_ value: JSONValue, csv: Bool) throws -> String {
        guard case .array(let elements) = value else {
            throw EvaluationError("\(ValueOperations.describe(value)) cannot be \(csv ? "csv" : "tsv")-formatted, only array")
        }
        var fields: [String] = []
        for element in elements {
            switch element {
            case .null: fields.append("")
            case .bool(let flag): fields.append(flag ? "true" : "false")
            case .number(let number): fields.append(number.double.isNaN ? "" : ValueText.text(of: number))  // jq: NaN is an empty field
            case .string(let string):
                if csv {
                    fields.append("\"" + string.replacingAll("\"", with: "\"\"").replacingAll("\0", with: "\\0") + "\"")
                } else {
                    fields.append(string.replacingAll("\\", with: "\\\\").replacingAll("\t", with: "\\t")
                        .replacingAll("\n", with: "\\n").replacingAll("\r", with: "\\r").replacingAll("\0", with: "\\0"))
                }
            default:
                throw EvaluationError("\(ValueOperations.describe(element)) is not valid in a csv row")
            }
        }
        return fields.joined(separator: csv ? "," : "\t")
    }

    private static func shell(_ value: JSONValue) throws -> String {
        func quote(_ element: JSONValue) throws -> String {
            switch element {
            case .string(let string): return "'" + string.replacingAll("'", with: "'\\''").replacingAll("\0", with: "\\0") + "'"
            case .array, .object: throw EvaluationError("\(ValueOperations.describe(element)) can not be escaped for shell")
            default: return ValueText.json(element)
            }
        }
        if case .array(let elements) = value {
            var parts: [String] = []
            for element in elements { parts.append(try quote(element)) }
            return parts.joined(separator: " ")
        }
        return try quote(value)
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func base64(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let b0 = chunk[0], b1 = chunk.count > 1 ? chunk[1] : 0, b2 = chunk.count > 2 ? chunk[2] : 0
            output.append(base64Alphabet[Int(b0 >> 2)])
            output.append(base64Alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            output.append(chunk.count > 1 ? base64Alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            output.append(chunk.count > 2 ? base64Alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func base64Decode(_ text: String) throws -> String {
        var values: [UInt8] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") { break }
            guard let position = base64Alphabet.firstIndex(of: byte) else {
                throw EvaluationError("\(ValueOperations.describe(.string(text))) is not valid base64 data")
            }
            values.append(UInt8(position))
        }
        if values.count % 4 == 1 {
            throw EvaluationError("\(ValueOperations.describe(.string(text))) trailing base64 byte found")
        }
        var output: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = Array(values[index..<min(index + 4, values.count)])
            if chunk.count > 1 { output.append(chunk[0] << 2 | chunk[1] >> 4) }
            if chunk.count > 2 { output.append((chunk[1] & 15) << 4 | chunk[2] >> 2) }
            if chunk.count > 3 { output.append((chunk[2] & 3) << 6 | chunk[3]) }
            index += 4
        }
        return lossyText(output)
    }

    /// Bytes as text the way jq makes a string of bytes that may not be UTF-8 (its
    /// `jvp_utf8_next`): a bad lead byte or a stray continuation byte is one U+FFFD; a sequence
    /// cut short by a byte that is not a continuation is one U+FFFD up to that byte; a sequence
    /// the text ends inside is one U+FFFD for all of it; overlong forms, surrogates and code
    /// points past U+10FFFF are one U+FFFD each.
    static func lossyText(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            let first = bytes[index]
            let length: Int
            switch first {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0  // a continuation byte, C0, C1 or F5...FF
            }
            if length == 1 {
                scalars.append(Unicode.Scalar(first))
                index += 1
                continue
            }
            if length == 0 {
                scalars.append("\u{FFFD}")
                index += 1
                continue
            }
            if index + length > bytes.count {
                scalars.append("\u{FFFD}")
                index = bytes.count
                continue
            }
            var codePoint = UInt32(first) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            var consumed = length
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else {
                    codePoint = UInt32.max
                    consumed = offset
                    break
                }
                codePoint = codePoint << 6 | UInt32(byte & 0x3F)
            }
            let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
            if codePoint != UInt32.max, codePoint >= smallest, let scalar = Unicode.Scalar(codePoint) {
                scalars.append(scalar)
            } else {
                scalars.append("\u{FFFD}")
            }
            index += consumed
        }
        return String(scalars)
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        ValueOperations.split(self, separator: target).joined(separator: replacement)
    }
}

/// A bare `@format`, applied to `.`.
final class FormatNode: Node {
    private let format: String
    /// Creates the node from its compiled parts.
    init(format: String) { self.format = format }
    override var isSingle: Bool { true }
    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue { try Formats.apply(format, input) }
}

/// A string with interpolations (`"\(.a)-\(.b)"`, `@csv "\(.)"`): every combination, last interpolation outermost.
final class StringNode: Node {
    /// A literal piece or an interpolated expression.
    enum Part {
        case text(String)
        case interpolation(Node)
    }

    private let parts: [Part]
    private let format: String?
    private let allSingle: Bool

    /// Creates the node from its compiled parts.
    init(parts: [Part], format: String?) {
        self.parts = parts
        self.format = format
        self.allSingle = parts.allSatisfy { if case .interpolation(let node) = $0 { node.isSingle } else { true } }
    }

    override var isSingle: Bool { allSingle }

    private func render(_ value: JSONValue) throws -> String {
        guard let format, format != "text" else {
            if case .string(let string) = value { return string }
            return ValueText.json(value)
        }
        guard case .string(let string) = try Formats.apply(format, value) else { return "" }
        return string
    }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        guard allSingle else { return try super.single(input, env) }
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .interpolation(let node): result += try render(try node.single(input, env))
            }
        }
        return .string(result)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if allSingle { return try emit(try single(input, env)) }
        try build(parts.count - 1, [], input, env, emit)
    }

    private func build(_ position: Int, _ suffix: [String], _ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard position >= 0 else { return try emit(.string(suffix.reversed().joined())) }
        switch parts[position] {
        case .text(let text): try build(position - 1, suffix + [text], input, env, emit)
        case .interpolation(let node):
            try node.run(input, env) { value in
                try self.build(position - 1, suffix + [try self.render(value)], input, env, emit)
            }
        }
    }
}
