import WeirCore

extension Builtins {
    /// String builtins: prefixes and suffixes, case, code points, splitting and searching.
    static var stringBuiltins: [String: Builtin] {
        [
            "startswith/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let prefix) = arguments[0] else {
                    throw EvaluationError("startswith() requires string inputs")
                }
                return .bool(text.utf8.starts(with: prefix.utf8))
            },
            "endswith/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let suffix) = arguments[0] else {
                    throw EvaluationError("endswith() requires string inputs")
                }
                return .bool(text.utf8.reversed().starts(with: suffix.utf8.reversed()))
            },
            "ltrimstr/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let prefix) = arguments[0] else {
                    throw EvaluationError("startswith() requires string inputs")
                }
                guard text.utf8.starts(with: prefix.utf8) else { return value }
                return .string(String(decoding: Array(text.utf8).dropFirst(prefix.utf8.count), as: UTF8.self))
            },
            "rtrimstr/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let suffix) = arguments[0] else {
                    throw EvaluationError("endswith() requires string inputs")
                }
                guard text.utf8.reversed().starts(with: suffix.utf8.reversed()), !suffix.isEmpty || true else { return value }
                return .string(String(decoding: Array(text.utf8).dropLast(suffix.utf8.count), as: UTF8.self))
            },
            "explode/0": .unary { value in
                guard case .string(let text) = value else { throw EvaluationError("explode input must be a string") }
                return .array(text.unicodeScalars.map { .number(Int($0.value)) })
            },
            "implode/0": .unary { value in
                guard case .array(let codes) = value else { throw EvaluationError("implode input must be an array") }
                var scalars = String.UnicodeScalarView()
                for code in codes {
                    guard case .number(let number) = code else {
                        throw EvaluationError("\(ValueOperations.describe(code)) can't be imploded, unicode codepoint needs to be numeric")
                    }
                    let integer = Int(exactly: number.double.rounded(.towardZero)) ?? -1
                    guard integer >= 0, integer <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(integer)) else {
                        scalars.append("\u{FFFD}")
                        continue
                    }
                    scalars.append(scalar)
                }
                return .string(String(scalars))
            },
            "split/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let separator) = arguments[0] else {
                    throw EvaluationError("split input and separator must be strings")
                }
                return .array(ValueOperations.split(text, separator: separator).map(JSONValue.string))
            },
            "ascii_downcase/0": .unary { value in
                guard case .string(let text) = value else { throw EvaluationError("explode input must be a string") }
                return .string(String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self))
            },
            "ascii_upcase/0": .unary { value in
                guard case .string(let text) = value else { throw EvaluationError("explode input must be a string") }
                return .string(String(decoding: text.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 32 : $0 }, as: UTF8.self))
            },
            "trim/0": .unary { try trim($0, leading: true, trailing: true) },
            "ltrim/0": .unary { try trim($0, leading: true, trailing: false) },
            "rtrim/0": .unary { try trim($0, leading: false, trailing: true) },
            "indices/1": .values { value, arguments in try indices(value, arguments[0]) },
            // jq: `def index($i): indices($i) | .[0];` and `def rindex($i): indices($i) | .[-1:][0];`
            "index/1": .values { value, arguments in
                let found = try indices(value, arguments[0])
                if case .array(let positions) = found { return positions.first ?? .null }
                return try ValueOperations.index(found, .number(0))
            },
            "rindex/1": .values { value, arguments in
                let found = try indices(value, arguments[0])
                if case .array(let positions) = found { return positions.last ?? .null }
                return try ValueOperations.index(try ValueOperations.slice(found, from: .number(-1), to: .null), .number(0))
            },
        ]
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    private static func trim(_ value: JSONValue, leading: Bool, trailing: Bool) throws -> JSONValue {
        guard case .string(let text) = value else { throw EvaluationError("trim input must be a string") }
        var scalars = Substring(text).unicodeScalars[...]
        if leading { while let first = scalars.first, isWhitespace(first) { scalars.removeFirst() } }
        if trailing { while let last = scalars.last, isWhitespace(last) { scalars.removeLast() } }
        return .string(String(String.UnicodeScalarView(scalars)))
    }

    /// `indices(x)`: code point offsets of a substring, positions of an element or sub-array.
    static func indices(_ value: JSONValue, _ needle: JSONValue) throws -> JSONValue {
        // jq: `def indices($i): if type == "array" and ($i|type) == "array" then .[$i] elif type ==
        // "array" then .[[$i]] elif type == "string" and ($i|type) == "string" then _strindices($i) else .[$i] end;`
        switch (value, needle) {
        case (.string(let text), .string(let search)):
            guard !search.isEmpty else { return .array([]) }  // jq 1.8: the empty string is found nowhere
            let haystack = Array(text.unicodeScalars), pattern = Array(search.unicodeScalars)
            guard pattern.count <= haystack.count else { return .array([]) }
            var result: [JSONValue] = []
            for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
                if Array(haystack[start..<(start + pattern.count)]) == pattern { result.append(.number(start)) }
            }
            return .array(result)
        case (.array(let array), .array(let search)):
            return .array(ValueOperations.indices(of: search, in: array).map { .number($0) })
        case (.array(let array), _):
            return .array(array.enumerated().filter { ValueOrder.equal($0.element, needle) }.map { .number($0.offset) })
        default:
            return try ValueOperations.index(value, needle)
        }
    }
}

/// `splits(re; flags)`: the pieces of the input between matches, one output each.
final class SplitsNode: Node {
    private let arguments: [Node]
    /// Creates the node from its compiled parts.
    init(arguments: [Node]) { self.arguments = arguments }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try arguments[1].run(input, env) { flags in
            try self.arguments[0].run(input, env) { pattern in
                guard case .string = input else { throw Builtins.typeError(input, "cannot be matched, as it is not a string") }
                let pieces = try RegexSupport.split(input, pattern, flags)
                for piece in pieces { try emit(piece) }
            }
        }
    }
}
