/// A token of the expression language, with the byte offset where it starts.
struct Token: Sendable {
    /// What kind of token this is, with its payload.
    enum Kind: Sendable, Equatable {
        case dot                    // .
        case recurse                // ..
        case field(String)          // .name
        case identifier(String)     // name, keywords included
        case variable(String)       // $name
        case format(String)         // @name
        case number(String)         // literal text
        case string([StringPart])   // "…" with interpolations
        case punctuation(String)    // operators and brackets
        case end                    // end of input
    }

    /// One piece of a string literal: literal text or an interpolated expression's tokens.
    enum StringPart: Sendable, Equatable {
        case text(String)
        case interpolation([Token])
    }

    /// What the token is.
    var kind: Kind
    /// UTF-8 byte offset in the source.
    var offset: Int

    /// Tokens are equal when kind and offset are.
    static func == (lhs: Token, rhs: Token) -> Bool { lhs.kind == rhs.kind && lhs.offset == rhs.offset }
}

extension Token: Equatable {}

/// Splits expression source text into tokens (string interpolations are lexed recursively).
struct Lexer {
    private let bytes: [UInt8]
    private var position = 0
    private let source: String
    /// How many string interpolations are open (each is lexed by a nested call).
    private var interpolations = 0

    /// A lexer over `source`.
    init(_ source: String) {
        self.source = source
        self.bytes = Array(source.utf8)
    }

    /// The 1-based column (in Unicode scalars) of a byte offset in `source`.
    static func column(of offset: Int, in source: String) -> Int {
        let utf8 = Array(source.utf8)
        let end = min(offset, utf8.count)
        var column = 1
        for index in 0..<end where utf8[index] & 0xC0 != 0x80 { column += 1 }
        return column
    }

    private func error(_ message: String, at offset: Int) -> ExpressionSyntaxError {
        ExpressionSyntaxError(column: Lexer.column(of: offset, in: source), message: message)
    }

    /// All tokens of the source, ending with `.end`.
    mutating func tokenize() throws(ExpressionSyntaxError) -> [Token] {
        var tokens = try lex(untilCloseParen: false)
        tokens.append(Token(kind: .end, offset: bytes.count))
        return tokens
    }

    /// The tokens of a string template: `source` read as the inside of a string literal
    /// (escapes and `\(…)` interpolations, and a bare `"` as itself), as one string token.
    mutating func tokenizeTemplate() throws(ExpressionSyntaxError) -> [Token] {
        let parts = try lexString(start: 0, template: true)
        return [Token(kind: .string(parts), offset: 0), Token(kind: .end, offset: bytes.count)]
    }

    private static let punctuations: [String] = [
        "?//=", "?//", "//=", "|=", "+=", "-=", "*=", "/=", "%=", "==", "!=", "<=", ">=", "//",
        "|", ",", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", "[", "]", "{", "}", ":", ";", "?",
    ]

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
    }

    private static func isIdentifierContinue(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= 0x30 && byte <= 0x39)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func lex(untilCloseParen: Bool) throws(ExpressionSyntaxError) -> [Token] {
        var tokens: [Token] = []
        var depth = 0
        while true {
            skipSpaceAndComments()
            guard position < bytes.count else {
                if untilCloseParen { throw error("unterminated string interpolation", at: position) }
                return tokens
            }
            let start = position
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                tokens.append(Token(kind: .string(try lexString(start: start)), offset: start))
            } else if byte == UInt8(ascii: ".") {
                if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ".") {
                    position += 2
                    tokens.append(Token(kind: .recurse, offset: start))
                } else if position + 1 < bytes.count, Lexer.isIdentifierStart(bytes[position + 1]) {
                    position += 1
                    tokens.append(Token(kind: .field(readIdentifier()), offset: start))
                } else if position + 1 < bytes.count, Lexer.isDigit(bytes[position + 1]) {
                    tokens.append(Token(kind: .number(readNumber()), offset: start))
                } else {
                    position += 1
                    tokens.append(Token(kind: .dot, offset: start))
                }
            } else if Lexer.isDigit(byte) {
                tokens.append(Token(kind: .number(readNumber()), offset: start))
            } else if Lexer.isIdentifierStart(byte) {
                tokens.append(Token(kind: .identifier(readQualifiedName()), offset: start))
            } else if byte == UInt8(ascii: "$") {
                position += 1
                guard position < bytes.count, Lexer.isIdentifierStart(bytes[position]) else {
                    throw error("expected a variable name after '$'", at: start)
                }
                tokens.append(Token(kind: .variable(readQualifiedName()), offset: start))
            } else if byte == UInt8(ascii: "@") {
                position += 1
                guard position < bytes.count, Lexer.isIdentifierStart(bytes[position]) else {
                    throw error("expected a format name after '@'", at: start)
                }
                tokens.append(Token(kind: .format(readIdentifier()), offset: start))
            } else {
                var matched: String?
                for punctuation in Lexer.punctuations where hasPrefix(punctuation) {
                    matched = punctuation
                    break
                }
                guard let punctuation = matched else {
                    let scalar = String(decoding: bytes[start..<min(bytes.count, start + Lexer.sequenceLength(bytes, start))], as: UTF8.self)
                    throw error("unexpected character '\(scalar)'", at: start)
                }
                position += punctuation.utf8.count
                if untilCloseParen {
                    if punctuation == "(" { depth += 1 }
                    if punctuation == ")" {
                        if depth == 0 { return tokens }
                        depth -= 1
                    }
                }
                tokens.append(Token(kind: .punctuation(punctuation), offset: start))
            }
        }
    }

    private func hasPrefix(_ text: String) -> Bool {
        var index = position
        for byte in text.utf8 {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    private mutating func skipSpaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            } else if byte == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != 0x0A { position += 1 }
            } else {
                return
            }
        }
    }

    /// Reads an identifier with optional `::` parts (`mod::name`), as jq's lexer does.
    private mutating func readQualifiedName() -> String {
        var name = readIdentifier()
        while position + 2 < bytes.count, bytes[position] == UInt8(ascii: ":"), bytes[position + 1] == UInt8(ascii: ":"),
              Lexer.isIdentifierStart(bytes[position + 2]) {
            position += 2
            name += "::" + readIdentifier()
        }
        return name
    }

    private mutating func readIdentifier() -> String {
        let start = position
        while position < bytes.count, Lexer.isIdentifierContinue(bytes[position]) { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func readNumber() -> String {
        let start = position
        while position < bytes.count, Lexer.isDigit(bytes[position]) { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < bytes.count, Lexer.isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            var look = position + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if look < bytes.count, Lexer.isDigit(bytes[look]) {
                position = look
                while position < bytes.count, Lexer.isDigit(bytes[position]) { position += 1 }
            }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Lexes a string literal's body after its opening quote; a `template` body runs to the
    /// end of the source instead, and a bare `"` in it is text.
    private mutating func lexString(start: Int, template: Bool = false) throws(ExpressionSyntaxError) -> [Token.StringPart] {
        var parts: [Token.StringPart] = []
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else {
                guard template else { throw error("unterminated string literal", at: start) }
                if !text.isEmpty || parts.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))) }
                return parts
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\""), !template {
                position += 1
                if !text.isEmpty || parts.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))) }
                return parts
            }
            if byte != UInt8(ascii: "\\") {
                text.append(byte)
                position += 1
                continue
            }
            let escapeStart = position
            position += 1
            guard position < bytes.count else { throw error("unterminated string literal", at: start) }
            let escaped = bytes[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalarValue = try readHex4(at: escapeStart)
                if scalarValue >= 0xD800, scalarValue < 0xDC00, hasPrefix("\\u") {
                    let save = position
                    position += 2
                    let low = try readHex4(at: escapeStart)
                    if low >= 0xDC00, low < 0xE000 {
                        scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = save
                    }
                }
                let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
                text.append(contentsOf: Array(String(Character(scalar)).utf8))
            case UInt8(ascii: "("):
                if !text.isEmpty { parts.append(.text(String(decoding: text, as: UTF8.self))) }
                text = []
                interpolations += 1
                defer { interpolations -= 1 }
                if interpolations > Parser.maximumNesting {
                    throw error("the program nests more than \(Parser.maximumNesting) levels deep", at: escapeStart)
                }
                let inner = try lex(untilCloseParen: true)
                parts.append(.interpolation(inner + [Token(kind: .end, offset: position - 1)]))
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(escaped)))' in string literal", at: escapeStart)
            }
        }
    }

    private mutating func readHex4(at escapeStart: Int) throws(ExpressionSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("invalid \\u escape in string literal", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            default: throw error("invalid \\u escape in string literal", at: escapeStart)
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }
}

extension Lexer {
    /// The length of the UTF-8 sequence starting at `index` judged by its lead byte (at least 1).
    fileprivate static func sequenceLength(_ bytes: [UInt8], _ index: Int) -> Int {
        let byte = bytes[index]
        if byte < 0xC0 { return 1 }
        if byte < 0xE0 { return 2 }
        if byte < 0xF0 { return 3 }
        return 4
    }
}
