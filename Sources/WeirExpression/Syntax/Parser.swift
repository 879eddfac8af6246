import WeirCore

/// A syntax error (or an unsupported construct) in an expression, with its 1-based column.
package struct ExpressionSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based column, counted in Unicode scalars.
    package var column: Int
    /// What is wrong (`unexpected ')'`, `` `input` is not supported ``).
    package var message: String

    /// An error at `column`.
    package init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    /// jq-like rendering: `syntax error at column 7: unexpected ')'`.
    package var description: String { "syntax error at column \(column): \(message)" }
}

/// Recursive-descent parser with jq's operator precedence.
///
/// Precedence, loosest first: `def`, `|` (right), `,`, `//` (right), assignments
/// (non-associative), `or`, `and`, comparisons (non-associative), `+ -`, `* / %`,
/// unary minus, postfix terms (`.a`, `[…]`, `?`, `as`). `try` and `catch` bind a postfix term.
struct Parser {
    private var tokens: [Token]
    private var position = 0
    private let source: String
    /// How many terms, unary minuses and patterns are open around the current token.
    private var nesting = 0

    /// The most terms one can be nested in (brackets, parentheses, `if`, `reduce`, `try`, `-`,
    /// patterns): parsing, compiling and running recurse once per level, so a program of
    /// `[[[[…` is a syntax error here rather than a stack overflow (found by fuzzing).
    static let maximumNesting = 256
    /// The deepest syntax tree a program may have: every operator in a chain (`1, 2, 3`,
    /// `.a.b.c`, `a | b | c`) is one level, and compiling and running recurse once per level.
    static let maximumTreeDepth = 2_000

    /// Parses a whole program.
    static func parse(_ source: String) throws(ExpressionSyntaxError) -> Expression {
        var lexer = Lexer(source)
        let tokens = try lexer.tokenize()
        var parser = Parser(tokens: tokens, source: source)
        let expression = try parser.parseProgram()
        try parser.expectEnd()
        try checkTreeDepth(expression)
        return expression
    }

    /// Definitions, then the main expression. Since jq 1.7 a program without one (`''`, only
    /// comments, only `def`s) is an error, not the identity it was in jq 1.6.
    private mutating func parseProgram() throws(ExpressionSyntaxError) -> Expression {
        var definitions: [FunctionDefinition] = []
        while isKeyword("def") { definitions.append(try parseDefinition()) }
        if current.kind == .end { throw error("Top-level program not given (try \".\")") }
        return Parser.defining(definitions, in: try parsePipe())
    }

    /// `def`s in order around the expression that follows them.
    private static func defining(_ definitions: [FunctionDefinition], in expression: Expression) -> Expression {
        definitions.reversed().reduce(expression) { rest, definition in .functionDefinition(definition, rest) }
    }

    /// Parses `source` as the inside of a string literal (see ``Lexer/tokenizeTemplate()``).
    static func parseTemplate(_ source: String) throws(ExpressionSyntaxError) -> Expression {
        var lexer = Lexer(source)
        let tokens = try lexer.tokenizeTemplate()
        var parser = Parser(tokens: tokens, source: source)
        let expression = try parser.parseStringToken()
        try parser.expectEnd()
        try checkTreeDepth(expression)
        return expression
    }

    /// Refuses a syntax tree deeper than ``maximumTreeDepth`` (measured without recursion).
    private static func checkTreeDepth(_ expression: Expression) throws(ExpressionSyntaxError) {
        var pending: [(Expression, Int)] = [(expression, 1)]
        while let (next, depth) = pending.popLast() {
            guard depth <= maximumTreeDepth else {
                throw ExpressionSyntaxError(column: 1, message: "the program is more than \(maximumTreeDepth) levels deep (each operator of a chain such as `1, 2, 3` or `.a.b.c` is a level); split it with functions or variables")
            }
            for child in next.children { pending.append((child, depth + 1)) }
        }
    }

    /// Counts one level of nesting around a term, refusing more than ``maximumNesting``.
    private mutating func enterNesting() throws(ExpressionSyntaxError) {
        nesting += 1
        if nesting > Parser.maximumNesting {
            throw error("the program nests more than \(Parser.maximumNesting) levels deep")
        }
    }

    private init(tokens: [Token], source: String) {
        self.tokens = tokens
        self.source = source
    }

    private var current: Token { tokens[position] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private func error(_ message: String, at token: Token? = nil) -> ExpressionSyntaxError {
        ExpressionSyntaxError(column: Lexer.column(of: (token ?? current).offset, in: source), message: message)
    }

    private func unexpected() -> ExpressionSyntaxError {
        error(current.kind == .end ? "unexpected end of expression" : "unexpected \(describe(current))")
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .dot: "'.'"
        case .recurse: "'..'"
        case .field(let name): "'.\(name)'"
        case .identifier(let name): "'\(name)'"
        case .variable(let name): "'$\(name)'"
        case .format(let name): "'@\(name)'"
        case .number(let text): "'\(text)'"
        case .string: "string"
        case .punctuation(let text): "'\(text)'"
        case .end: "end of expression"
        }
    }

    private func isPunctuation(_ text: String) -> Bool {
        if case .punctuation(let value) = current.kind { return value == text }
        return false
    }

    private func isKeyword(_ text: String) -> Bool {
        if case .identifier(let value) = current.kind { return value == text }
        return false
    }

    private mutating func expect(_ text: String) throws(ExpressionSyntaxError) {
        guard isPunctuation(text) else {
            if current.kind == .end { throw error("unexpected end of expression, expected '\(text)'") }
            throw error("unexpected \(describe(current)), expected '\(text)'")
        }
        advance()
    }

    private mutating func expectKeyword(_ text: String) throws(ExpressionSyntaxError) {
        guard isKeyword(text) else {
            if current.kind == .end { throw error("unexpected end of expression, expected '\(text)'") }
            throw error("unexpected \(describe(current)), expected '\(text)'")
        }
        advance()
    }

    private mutating func expectEnd() throws(ExpressionSyntaxError) {
        guard current.kind == .end else { throw unexpected() }
    }

    private static let keywords: Set<String> = [
        "def", "if", "then", "elif", "else", "end", "as", "reduce", "foreach", "try", "catch",
        "label", "import", "include", "and", "or", "__loc__",
    ]

    // MARK: Expressions by precedence

    /// Parses a pipe: the loosest level of the grammar.
    /// A chain `a | def f: …; b | c` is read in a loop (a long one is no deeper a recursion)
    /// and built from the right: `a | (def f: …; (b | c))`.
    mutating func parsePipe() throws(ExpressionSyntaxError) -> Expression {
        var links: [(definitions: [FunctionDefinition], term: Expression)] = []
        while true {
            var definitions: [FunctionDefinition] = []
            while isKeyword("def") { definitions.append(try parseDefinition()) }
            if isKeyword("import") || isKeyword("include") {
                throw error("modules (`\(isKeyword("import") ? "import" : "include")`) are not supported")
            }
            links.append((definitions, try parseComma()))
            guard isPunctuation("|") else { break }
            advance()
        }
        var result = Parser.defining(links[links.count - 1].definitions, in: links[links.count - 1].term)
        for link in links.dropLast().reversed() {
            result = Parser.defining(link.definitions, in: .pipe(link.term, result))
        }
        return result
    }

    private mutating func parseDefinition() throws(ExpressionSyntaxError) -> FunctionDefinition {
        try expectKeyword("def")
        guard case .identifier(let name) = current.kind, !Parser.keywords.contains(name) else {
            throw error("expected a function name after 'def'")
        }
        advance()
        var parameters: [String] = []
        if isPunctuation("(") {
            advance()
            while true {
                switch current.kind {
                case .identifier(let parameter) where !Parser.keywords.contains(parameter): parameters.append(parameter)
                case .variable(let parameter): parameters.append("$" + parameter)
                default: throw error("expected a parameter name")
                }
                advance()
                if isPunctuation(";") { advance(); continue }
                try expect(")")
                break
            }
        }
        try expect(":")
        try enterNesting()
        defer { nesting -= 1 }
        let body = try parsePipe()
        try expect(";")
        return FunctionDefinition(name: name, parameters: parameters, body: body)
    }

    /// Comma-separated elements; an element followed by `as` binds everything after it (`1, 2 as $x | $x, 3`).
    private mutating func parseComma() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseBindingElement()
        while isPunctuation(",") {
            advance()
            left = .comma(left, try parseBindingElement())
        }
        return left
    }

    private mutating func parseBindingElement() throws(ExpressionSyntaxError) -> Expression {
        // What follows `def …;`, `label $x |` and `… as $x |` is nested in it.
        if isKeyword("def") {
            let definition = try parseDefinition()
            try enterNesting()
            defer { nesting -= 1 }
            return .functionDefinition(definition, try parsePipe())
        }
        if isKeyword("label") {
            let token = current
            advance()
            guard case .variable(let label) = current.kind else { throw error("expected '$name' after 'label'", at: token) }
            advance()
            try expect("|")
            try enterNesting()
            defer { nesting -= 1 }
            return .label(label, try parsePipe())
        }
        let element = try parseAlternative()
        guard isKeyword("as") else { return element }
        advance()
        try enterNesting()
        defer { nesting -= 1 }
        var patterns = [try parsePattern()]
        while isPunctuation("?//") {
            advance()
            patterns.append(try parsePattern())
        }
        try expect("|")
        return .bind(element, patterns, try parsePipe())
    }

    private mutating func parseAlternative() throws(ExpressionSyntaxError) -> Expression {
        let left = try parseAssignment()
        if isPunctuation("//") {
            advance()
            return .alternative(left, try parseAlternative())
        }
        return left
    }

    private static let assignmentOperators: [String: AssignmentOperator] = [
        "=": .set, "|=": .update, "+=": .add, "-=": .subtract, "*=": .multiply, "/=": .divide, "%=": .modulo, "//=": .alternative,
    ]

    private mutating func parseAssignment() throws(ExpressionSyntaxError) -> Expression {
        let left = try parseOr()
        if let op = takeOperator(Parser.assignmentOperators) {
            // As in jq, assignments do not chain (`.a = .b = 1` is a syntax error) and bind
            // tighter than `//`: `.a |= . // 5` is `(.a |= .) // 5`.
            let right = try parseOr()
            return .assign(op, left, right)
        }
        return left
    }

    private mutating func parseOr() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseAnd()
        while isKeyword("or") {
            advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseComparison()
        while isKeyword("and") {
            advance()
            left = .and(left, try parseComparison())
        }
        return left
    }

    private static let comparisonOperators: [String: BinaryOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func parseComparison() throws(ExpressionSyntaxError) -> Expression {
        let left = try parseAdditive()
        if let op = takeOperator(Parser.comparisonOperators) {
            let right = try parseAdditive()
            if case .punctuation(let next) = current.kind, Parser.comparisonOperators[next] != nil {
                throw unexpected()
            }
            return .binary(op, left, right)
        }
        return left
    }

    private static let additiveOperators: [String: BinaryOperator] = ["+": .add, "-": .subtract]
    private static let multiplicativeOperators: [String: BinaryOperator] = ["*": .multiply, "/": .divide, "%": .modulo]

    private mutating func parseAdditive() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseMultiplicative()
        while let op = takeOperator(Parser.additiveOperators) {
            left = .binary(op, left, try parseMultiplicative())
        }
        return left
    }

    private mutating func parseMultiplicative() throws(ExpressionSyntaxError) -> Expression {
        var left = try parseUnary()
        while let op = takeOperator(Parser.multiplicativeOperators) {
            left = .binary(op, left, try parseUnary())
        }
        return left
    }

    /// The operator in `table` that the current token spells, moving past it; nil otherwise.
    private mutating func takeOperator<Operator>(_ table: [String: Operator]) -> Operator? {
        guard case .punctuation(let text) = current.kind, let op = table[text] else { return nil }
        advance()
        return op
    }

    private mutating func parseUnary() throws(ExpressionSyntaxError) -> Expression {
        if isPunctuation("-") {
            advance()
            try enterNesting()
            defer { nesting -= 1 }
            return .negate(try parseUnary())
        }
        return try parsePostfix(allowBinding: true)
    }

    // MARK: Terms

    private mutating func parsePostfix(allowBinding: Bool) throws(ExpressionSyntaxError) -> Expression {
        // `?` right after an access (`.a?`, `.[k]?`, `.[]?`) covers only that access; after any
        // other term (`(…)?`, `f?`) it covers the whole term.
        var lastWasAccess: Bool
        switch current.kind {
        case .field: lastWasAccess = true
        case .dot:
            let next = tokens[position + 1].kind
            if case .string = next { lastWasAccess = true } else { lastWasAccess = next == .punctuation("[") }
        default: lastWasAccess = false
        }
        var term = try parsePrimary()
        while true {
            switch current.kind {
            case .field(let name):
                advance()
                lastWasAccess = true
                term = .index(term, .literal(.string(name)))
            case .dot:
                let next = tokens[position + 1].kind
                if case .string = next {
                    advance()
                    term = .index(term, try parseStringToken())
                } else if next == .punctuation("[") {
                    advance()
                    term = try parseBracketSuffix(term)
                } else {
                    throw unexpected()
                }
                lastWasAccess = true
            case .punctuation("["):
                term = try parseBracketSuffix(term)
                lastWasAccess = true
            case .punctuation("?"):
                advance()
                var isAccess = false
                switch term {
                case .index, .slice, .iterate: isAccess = lastWasAccess
                default: break
                }
                term = isAccess ? .optional(term) : .tryCatch(term, nil)
                lastWasAccess = false
            default:
                return term
            }
        }
    }

    /// Parses `[]`, `[e]`, `[e:]`, `[:e]`, `[e:e]` after a term.
    private mutating func parseBracketSuffix(_ term: Expression) throws(ExpressionSyntaxError) -> Expression {
        try expect("[")
        if isPunctuation("]") {
            advance()
            return .iterate(term)
        }
        if isPunctuation(":") {
            advance()
            let upper = try parsePipe()
            try expect("]")
            return .slice(term, nil, upper)
        }
        let index = try parsePipe()
        if isPunctuation(":") {
            advance()
            if isPunctuation("]") {
                advance()
                return .slice(term, index, nil)
            }
            let upper = try parsePipe()
            try expect("]")
            return .slice(term, index, upper)
        }
        try expect("]")
        return .index(term, index)
    }

    private mutating func parseStringToken(format: String? = nil) throws(ExpressionSyntaxError) -> Expression {
        guard case .string(let parts) = current.kind else { throw unexpected() }
        advance()
        var segments: [StringSegment] = []
        for part in parts {
            switch part {
            case .text(let text): segments.append(.text(text))
            case .interpolation(let innerTokens):
                var inner = Parser(tokens: innerTokens, source: source)
                inner.nesting = nesting
                let expression = try inner.parsePipe()
                try inner.expectEnd()
                segments.append(.interpolation(expression))
            }
        }
        if format == nil, segments.count == 1, case .text(let text) = segments[0] { return .literal(.string(text)) }
        return .string(segments, format: format)
    }

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> Expression {
        try enterNesting()
        defer { nesting -= 1 }
        let token = current
        switch token.kind {
        case .dot:
            let next = tokens[position + 1].kind
            if case .string = next {
                advance()
                return .index(.identity, try parseStringToken())
            }
            if next == .punctuation("[") {
                advance()
                return try parseBracketSuffix(.identity)
            }
            advance()
            return .identity
        case .recurse:
            advance()
            return .recurseAll
        case .field(let name):
            advance()
            return .index(.identity, .literal(.string(name)))
        case .number(let text):
            advance()
            return .literal(.number(Parser.numberLiteral(text)))
        case .string:
            return try parseStringToken()
        case .format(let name):
            advance()
            if case .string = current.kind { return try parseStringToken(format: name) }
            return .format(name)
        case .variable(let name):
            advance()
            if name == "__loc__" { return .location(line: line(of: token.offset)) }
            return .variable(name, offset: token.offset)
        case .punctuation("("):
            advance()
            let inner = try parsePipe()
            try expect(")")
            return inner
        case .punctuation("["):
            advance()
            if isPunctuation("]") {
                advance()
                return .array(nil)
            }
            let inner = try parsePipe()
            try expect("]")
            return .array(inner)
        case .punctuation("{"):
            advance()
            return try parseObject()
        case .identifier(let name):
            return try parseIdentifierTerm(name, token: token)
        default:
            throw unexpected()
        }
    }

    private func line(of offset: Int) -> Int {
        var line = 1
        for (index, byte) in source.utf8.enumerated() where index < offset && byte == 0x0A { line += 1 }
        return line
    }

    /// A program number literal: keeps its text when it is valid JSON (jq 1.7 keeps literals).
    static func numberLiteral(_ text: String) -> JSONNumber {
        let bytes = Array(text.utf8)
        let valid = bytes.first.map { $0 >= 0x30 && $0 <= 0x39 } == true
            && !(bytes.count > 1 && bytes[0] == 0x30 && bytes[1] >= 0x30 && bytes[1] <= 0x39)
            && !text.hasSuffix(".") && !text.contains(".e") && !text.contains(".E")
        let double = Double(text) ?? Double(text + "0") ?? .nan
        return valid ? JSONNumber(literal: text, double: double) : JSONNumber(double)
    }

    /// The `@format` names jq knows. A format is checked when applied, as jq does (`@foo` is a
    /// run-time error: "foo is not a valid format"), not while parsing.
    static let supportedFormats: Set<String> = ["text", "json", "csv", "tsv", "html", "uri", "urid", "sh", "base64", "base64d"]

    private mutating func parseIdentifierTerm(_ name: String, token: Token) throws(ExpressionSyntaxError) -> Expression {
        switch name {
        case "if":
            advance()
            var branches: [(Expression, Expression)] = []
            let condition = try parsePipe()
            try expectKeyword("then")
            branches.append((condition, try parsePipe()))
            while isKeyword("elif") {
                advance()
                let next = try parsePipe()
                try expectKeyword("then")
                branches.append((next, try parsePipe()))
            }
            var otherwise: Expression?
            if isKeyword("else") {
                advance()
                otherwise = try parsePipe()
            }
            try expectKeyword("end")
            return .ifThen(branches, otherwise)
        case "try":
            advance()
            let body = try parsePostTry()
            if isKeyword("catch") {
                advance()
                return .tryCatch(body, try parsePostTry())
            }
            return .tryCatch(body, .call("empty", [], offset: token.offset))
        case "reduce":
            advance()
            let source = try parseAlternative()
            try expectKeyword("as")
            let pattern = try parsePattern()
            try expect("(")
            let initial = try parsePipe()
            try expect(";")
            let update = try parsePipe()
            try expect(")")
            return .reduce(source, pattern, initial, update)
        case "foreach":
            advance()
            let source = try parseAlternative()
            try expectKeyword("as")
            let pattern = try parsePattern()
            try expect("(")
            let initial = try parsePipe()
            try expect(";")
            let update = try parsePipe()
            var extract: Expression?
            if isPunctuation(";") {
                advance()
                extract = try parsePipe()
            }
            try expect(")")
            return .foreach(source, pattern, initial, update, extract)
        case "import", "include":
            throw error("modules (`\(name)`) are not supported", at: token)
        case "break":
            advance()
            guard case .variable(let label) = current.kind else { throw error("expected '$name' after 'break'") }
            advance()
            return .breakLabel(label, offset: token.offset)
        default:
            if Parser.keywords.contains(name) { throw unexpected() }
            if name.contains("::") { throw error("modules (`\(name)`) are not supported", at: token) }
            advance()
            if !isPunctuation("(") {
                switch name {
                case "true": return .literal(.bool(true))
                case "false": return .literal(.bool(false))
                case "null": return .literal(.null)
                default: break
                }
            }
            var arguments: [Expression] = []
            if isPunctuation("(") {
                advance()
                while true {
                    arguments.append(try parsePipe())
                    if isPunctuation(";") { advance(); continue }
                    try expect(")")
                    break
                }
            }
            return .call(name, arguments, offset: token.offset)
        }
    }

    /// The body of `try` / `catch`: a postfix term (jq gives them the highest precedence).
    private mutating func parsePostTry() throws(ExpressionSyntaxError) -> Expression {
        if isPunctuation("-") {
            advance()
            return .negate(try parsePostTry())
        }
        return try parsePostfix(allowBinding: false)
    }

    private mutating func parseObject() throws(ExpressionSyntaxError) -> Expression {
        var entries: [ObjectEntry] = []
        if isPunctuation("}") {
            advance()
            return .object([])
        }
        while true {
            let token = current
            var key: ObjectEntry.Key
            switch token.kind {
            case .identifier(let name):
                advance()
                key = .name(name)
            case .variable(let name):
                advance()
                if name == "__loc__" {
                    key = .name("__loc__")
                    entries.append(ObjectEntry(key: key, value: .location(line: line(of: token.offset))))
                    if isPunctuation(",") { advance(); continue }
                    try expect("}")
                    return .object(entries)
                }
                key = .variable(name, offset: token.offset)
            case .number(let text):
                advance()
                key = .computed(.literal(.number(Parser.numberLiteral(text))))  // an error at run time, as jq's
            case .string:
                let string = try parseStringToken()
                if case .literal(.string(let text)) = string { key = .name(text) } else { key = .computed(string) }
            case .format(let name):
                advance()
                guard case .string = current.kind else { throw unexpected() }
                key = .computed(try parseStringToken(format: name))
            case .punctuation("("):
                advance()
                let inner = try parsePipe()
                try expect(")")
                key = .computed(inner)
            default:
                throw unexpected()
            }
            var value: Expression?
            if isPunctuation(":") {
                advance()
                value = try parseObjectValue()
            } else if case .computed(let expression) = key {
                if case .literal(.number) = expression { throw unexpected() }
                if case .string = expression {} else { throw error("unexpected \(describe(current)), expected ':'") }
            }
            entries.append(ObjectEntry(key: key, value: value))
            if isPunctuation(",") {
                advance()
                continue
            }
            try expect("}")
            return .object(entries)
        }
    }

    /// An object value: expressions without `,` joined by `|` (jq 1.8's object values).
    private mutating func parseObjectValue() throws(ExpressionSyntaxError) -> Expression {
        var value = try parseAlternative()
        while isPunctuation("|") {
            advance()
            value = .pipe(value, try parseAlternative())
        }
        return value
    }

    private mutating func parsePattern() throws(ExpressionSyntaxError) -> Pattern {
        try enterNesting()
        defer { nesting -= 1 }
        switch current.kind {
        case .variable(let name):
            advance()
            return .variable(name)
        case .punctuation("["):
            advance()
            var elements: [Pattern] = []
            while true {
                elements.append(try parsePattern())
                if isPunctuation(",") { advance(); continue }
                try expect("]")
                return .array(elements)
            }
        case .punctuation("{"):
            advance()
            var entries: [(key: PatternKey, pattern: Pattern?)] = []
            while true {
                let token = current
                var key: PatternKey
                switch token.kind {
                case .variable(let name):
                    advance()
                    key = .variable(name)
                case .identifier(let name):
                    advance()
                    key = .name(name)
                case .string:
                    let string = try parseStringToken()
                    if case .literal(.string(let text)) = string { key = .name(text) } else { key = .computed(string) }
                case .punctuation("("):
                    advance()
                    let inner = try parsePipe()
                    try expect(")")
                    key = .computed(inner)
                default:
                    throw unexpected()
                }
                var pattern: Pattern?
                if isPunctuation(":") {
                    advance()
                    pattern = try parsePattern()
                } else if case .variable = key {
                } else {
                    throw error("unexpected \(describe(current)), expected ':'")
                }
                entries.append((key, pattern))
                if isPunctuation(",") { advance(); continue }
                try expect("}")
                return .object(entries)
            }
        default:
            throw error("unexpected \(describe(current)), expected a pattern ('$name', '[…]' or '{…}')")
        }
    }
}
