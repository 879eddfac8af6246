#if canImport(Glibc)
import Glibc
#endif
import WeirCore

extension Builtins {
    /// Core builtins: control (`empty`, `error`, `select`, `limit`, `range`, …), types and conversions.
    static var coreBuiltins: [String: Builtin] {
        [
            "empty/0": .node { _ in EmptyNode() },
            "error/0": .node { _ in ErrorNode(message: nil) },
            "error/1": .node { ErrorNode(message: $0[0]) },
            "true/0": .node { _ in LiteralNode(.bool(true)) },
            "false/0": .node { _ in LiteralNode(.bool(false)) },
            "null/0": .node { _ in LiteralNode(.null) },
            "not/0": .unary { .bool(!$0.isTruthy) },
            "select/1": .node { SelectNode(condition: $0[0]) },
            "map/1": .node { ArrayNode(body: PipeNode(left: IterateNode(target: IdentityNode()), right: $0[0])) },
            "recurse/0": .node { _ in RecurseAllNode() },
            "recurse/1": .node { RecurseNode(step: $0[0]) },
            "range/1": .node { RangeNode(from: LiteralNode(.number(0)), upto: $0[0], by: nil) },
            "range/2": .node { RangeNode(from: $0[0], upto: $0[1], by: nil) },
            "range/3": .node { RangeNode(from: $0[0], upto: $0[1], by: $0[2]) },
            "limit/2": .node { LimitNode(count: $0[0], body: $0[1]) },
            "first/1": .node { LimitNode(count: LiteralNode(.number(1)), body: $0[0]) },
            "isempty/1": .node { IsEmptyNode(body: $0[0]) },
            "repeat/1": .node { RepeatNode(body: $0[0]) },
            "until/2": .node { UntilNode(condition: $0[0], update: $0[1], emitsEachStep: false) },
            "while/2": .node { UntilNode(condition: $0[0], update: $0[1], emitsEachStep: true) },
            "last/1": .node { LastNode(body: $0[0]) },
            "length/0": .unary(ValueOperations.length),
            "utf8bytelength/0": .unary { value in
                guard case .string(let string) = value else { throw typeError(value, "only strings have UTF-8 byte length") }
                return .number(string.utf8.count)
            },
            "keys/0": .unary { value in
                switch value {
                case .object(let object): return .array(object.keys.sorted { JSONValue.compareUTF8($0, $1) < 0 }.map(JSONValue.string))
                case .array(let array): return .array((0..<array.count).map { .number($0) })
                default: throw typeError(value, "has no keys")
                }
            },
            "keys_unsorted/0": .unary { value in
                switch value {
                case .object(let object): return .array(object.keys.map(JSONValue.string))
                case .array(let array): return .array((0..<array.count).map { .number($0) })
                default: throw typeError(value, "has no keys")
                }
            },
            "has/1": .values { value, arguments in
                switch (value, arguments[0]) {
                case (.object(let object), .string(let key)): return .bool(object[key] != nil)
                case (.array(let array), .number(let number)): return .bool(number.double >= 0 && number.double < Double(array.count))
                case (.null, _): return .bool(false)  // jq 1.8: null has no key of any kind
                default:
                    throw EvaluationError("Cannot check whether \(value.typeName) has a \(arguments[0].typeName) key")
                }
            },
            "contains/1": .values { value, arguments in .bool(try contains(value, arguments[0])) },
            "type/0": .unary { .string($0.typeName) },
            "tostring/0": .unary(toString),
            "tojson/0": .unary { .string(ValueText.json($0)) },
            "fromjson/0": .unary { value in
                guard case .string(let text) = value else { throw typeError(value, "only strings can be parsed") }
                // Typed: caught as `any Error`, the JSONError leaked when the `nan` branch
                // returned without using it (found by `bin/fuzz evaluate` under LeakSanitizer).
                do throws(JSONError) {
                    return try JSONParser.parse(text)
                } catch {
                    if text == "nan" || text == "NaN" || text == "-NaN" || text == "-nan" { return .number(.nan) }
                    throw EvaluationError("\(error.message) (while parsing '\(text)')")
                }
            },
            "tonumber/0": .unary { value in
                switch value {
                case .number: return value
                case .string(let text):
                    if let parsed = try? JSONParser.parse(text), case .number = parsed, !text.hasPrefix(" "), !text.hasSuffix(" ") { return parsed }
                    if isNumberText(text), let double = Double(text) { return .number(double) }
                    if text == "nan" || text == "NaN" { return .number(.nan) }
                    throw typeError(value, "cannot be parsed as a number")
                default: throw typeError(value, "cannot be parsed as a number")
                }
            },
            "toboolean/0": .unary { value in
                switch value {
                case .bool: return value
                case .string("true"): return .bool(true)
                case .string("false"): return .bool(false)
                default: throw typeError(value, "cannot be parsed as a boolean")
                }
            },
            "infinite/0": .node { _ in LiteralNode(.number(.infinity)) },
            "nan/0": .node { _ in LiteralNode(.number(.nan)) },
            "isinfinite/0": .unary { value in
                // jq 1.8: false for anything that is not a number.
                guard case .number(let number) = value else { return .bool(false) }
                return .bool(number.double.isInfinite)
            },
            "isnan/0": .unary { value in
                // jq 1.8: false for anything that is not a number.
                guard case .number(let number) = value else { return .bool(false) }
                return .bool(number.double.isNaN)
            },
            "isnormal/0": .unary { value in
                // jq 1.8: false for anything that is not a number.
                guard case .number(let number) = value else { return .bool(false) }
                return .bool(number.double.isNormal)
            },
            "add/0": .unary { value in
                switch value {
                case .array(let array):
                    guard var total = array.first else { return .null }
                    for element in array.dropFirst() { total = try ValueOperations.add(total, element) }
                    return total
                case .object(let object):
                    guard var total = object.values.first else { return .null }
                    for element in object.values.dropFirst() { total = try ValueOperations.add(total, element) }
                    return total
                default: throw EvaluationError("Cannot iterate over \(ValueOperations.describe(value))")
                }
            },
            "to_entries/0": .unary { value in
                try ValueDepth.nest(1, around: value)  // each value one level deeper, in an entry
                switch value {
                case .object(let object):
                    return .array(object.map { key, element in .object(JSONObject([("key", .string(key)), ("value", element)])) })
                case .array(let array):
                    return .array(array.enumerated().map { position, element in .object(JSONObject([("key", .number(position)), ("value", element)])) })
                default: throw typeError(value, "has no keys")
                }
            },
            "env/0": .node { _ in LiteralNode(environmentObject()) },
            "have_decnum/0": .node { _ in LiteralNode(.bool(true)) },  // literals keep their digits, as with decNumber
            "have_literal_numbers/0": .node { _ in LiteralNode(.bool(true)) },
            "debug/0": .unary { value in
                writeStandardError("[\"DEBUG:\",\(ValueText.json(value))]\n")
                return value
            },
            "debug/1": .node { DebugNode(message: $0[0]) },
            "stderr/0": .unary { value in
                writeStandardError(ValueText.json(value))
                return value
            },
            "abs/0": .unary { value in
                // jq 1.8: `if . < 0 then -. else . end` (so `null | abs` is an error, strings pass).
                guard ValueOrder.compare(value, .number(0)) < 0 else { return value }
                guard case .number(let number) = value else { throw typeError(value, "cannot be negated") }
                return .number(ValueOperations.negate(number))
            },
            "splits/1": .node { SplitsNode(arguments: [$0[0], LiteralNode(.null)]) },
            "splits/2": .node { SplitsNode(arguments: $0) },
        ]
    }

    /// `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`: what `tonumber` accepts beyond JSON.
    static func isNumberText(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes.removeFirst() }
        var digits = 0
        while let byte = bytes.first, byte >= 0x30 && byte <= 0x39 { bytes.removeFirst(); digits += 1 }
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            while let byte = bytes.first, byte >= 0x30 && byte <= 0x39 { bytes.removeFirst(); digits += 1 }
        }
        guard digits > 0 else { return false }
        if let byte = bytes.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            bytes.removeFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes.removeFirst() }
            var exponentDigits = 0
            while let byte = bytes.first, byte >= 0x30 && byte <= 0x39 { bytes.removeFirst(); exponentDigits += 1 }
            guard exponentDigits > 0 else { return false }
        }
        return bytes.isEmpty
    }

    /// Writes text to standard error (for `debug` and `stderr`).
    static func writeStandardError(_ text: String) {
        SystemIO.writeStandardErrorQuietly(text)
    }

    /// `tostring`: strings unchanged, everything else as compact JSON.
    static func toString(_ value: JSONValue) -> JSONValue {
        if case .string = value { return value }
        return .string(ValueText.json(value))
    }

    /// jq's `contains`: `a` and `b` must be of one kind (`true` and `false` are two kinds, as in
    /// jq); inside objects and arrays, values of different kinds just do not contain each other.
    static func contains(_ a: JSONValue, _ b: JSONValue) throws -> Bool {
        guard containmentKind(a) == containmentKind(b) else {
            throw EvaluationError("\(ValueOperations.describe(a)) and \(ValueOperations.describe(b)) cannot have their containment checked")
        }
        return deepContains(a, b)
    }

    private static func deepContains(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for (key, value) in y {
                guard let mine = x[key], deepContains(mine, value) else { return false }
            }
            return true
        case (.array(let x), .array(let y)):
            return y.allSatisfy { needle in x.contains { deepContains($0, needle) } }
        case (.string(let x), .string(let y)):
            return y.isEmpty || x.utf8.count >= y.utf8.count && Array(x.utf8).firstRange(of: Array(y.utf8)) != nil
        default:
            return containmentKind(a) == containmentKind(b) && ValueOrder.equal(a, b)
        }
    }

    /// jq's value kinds, where `true` and `false` differ.
    private static func containmentKind(_ value: JSONValue) -> String {
        if case .bool(let flag) = value { return flag ? "true" : "false" }
        return value.typeName
    }
}

/// `recurse(f)`: the input, then `recurse(f)` of each output of `f`.
final class RecurseNode: Node {
    private let step: Node
    /// Creates the node from its compiled parts.
    init(step: Node) { self.step = step }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try StackGuard.check()
        try emit(input)
        try step.run(input, env) { try self.run($0, env, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try emit(path, input)
        try step.paths(input, path, env) { try self.paths($1, $0, env, emit) }
    }
}

/// `range(from; upto; by)` with value arguments (`from` outermost).
final class RangeNode: Node {
    private let from: Node
    private let upto: Node
    private let by: Node?

    /// Creates the node from its compiled parts.
    init(from: Node, upto: Node, by: Node?) {
        self.from = from
        self.upto = upto
        self.by = by
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try from.run(input, env) { fromValue in
            try self.upto.run(input, env) { uptoValue in
                guard let by = self.by else {
                    guard case .number(let start) = fromValue, case .number(let end) = uptoValue else {
                        throw EvaluationError("Range bounds must be numeric")
                    }
                    // jq's RANGE opcode stops once `current >= end` in C, so a NaN bound never stops.
                    var current = start.double
                    while !(current >= end.double) {
                        try emit(.number(current))
                        current += 1
                    }
                    return
                }
                try by.run(input, env) { byValue in
                    guard case .number(let start) = fromValue, case .number(let end) = uptoValue, case .number(let step) = byValue else {
                        throw EvaluationError("Range bounds must be numeric")
                    }
                    // jq defines range/3 with `<` and `>`, whose order puts NaN below every number.
                    func less(_ a: Double, _ b: Double) -> Bool { a.isNaN || (!b.isNaN && a < b) }
                    var current = start.double
                    if less(0, step.double) {
                        while less(current, end.double) {
                            try emit(.number(current))
                            current += step.double
                        }
                    } else if less(step.double, 0) {
                        while less(end.double, current) {
                            try emit(.number(current))
                            current += step.double
                        }
                    }
                }
            }
        }
    }
}

/// `limit(n; f)` and `first(f)`: stops `f` after `n` outputs.
final class LimitNode: Node {
    private let count: Node
    private let body: Node

    /// Creates the node from its compiled parts.
    init(count: Node, body: Node) {
        self.count = count
        self.body = body
    }

    private final class Stop: Error {}

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try count.run(input, env) { countValue in
            guard case .number(let number) = countValue else { throw EvaluationError("Invalid limit: must be a number") }
            if number.double < 0 { throw EvaluationError("limit doesn't support negative count") }
            guard number.double > 0 else { return }
            var remaining = number.double
            let stop = Stop()
            do {
                try self.body.run(input, env) { value in
                    try emit(value)
                    remaining -= 1
                    if remaining <= 0 { throw stop }
                }
            } catch let signal as Stop where signal === stop {
            }
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try count.run(input, env) { countValue in
            guard case .number(let number) = countValue else { throw EvaluationError("Invalid limit: must be a number") }
            if number.double < 0 { throw EvaluationError("limit doesn't support negative count") }
            guard number.double > 0 else { return }
            var remaining = number.double
            let stop = Stop()
            do {
                try self.body.paths(input, path, env) { subpath, value in
                    try emit(subpath, value)
                    remaining -= 1
                    if remaining <= 0 { throw stop }
                }
            } catch let signal as Stop where signal === stop {
            }
        }
    }
}

/// `isempty(f)`: whether `f` yields nothing (stops at its first output).
final class IsEmptyNode: Node {
    private let body: Node
    /// Creates the node from its compiled parts.
    init(body: Node) { self.body = body }

    override var isSingle: Bool { true }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        var found = false
        do {
            try body.run(input, env) { _ in
                found = true
                throw StopSignal()
            }
        } catch is StopSignal {
        }
        return .bool(!found)
    }
}

/// `debug(message)`: writes `["DEBUG:", message]` to stderr for each message, passes the input on.
final class DebugNode: Node {
    private let message: Node
    /// Creates the node from its compiled parts.
    init(message: Node) { self.message = message }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try message.run(input, env) { value in
            Builtins.writeStandardError("[\"DEBUG:\",\(ValueText.json(value))]\n")
        }
        try emit(input)
    }
}

/// `last(f)`: the last output of `f`, if any.
final class LastNode: Node {
    private let body: Node
    /// Creates the node from its compiled parts.
    init(body: Node) { self.body = body }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        var last: JSONValue?
        try body.run(input, env) { last = $0 }
        if let last { try emit(last) }
    }
}

/// `repeat(f)`: the outputs of `f` on the input, again and again (jq 1.8: `def repeat(f): def _repeat: f, _repeat; _repeat;`), as a loop.
final class RepeatNode: Node {
    private let body: Node
    /// Creates the node from its compiled parts.
    init(body: Node) { self.body = body }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        while true { try body.run(input, env, emit) }
    }
}

/// `input_line_number`: the line of the current input, an error when unknown (as jq).
final class InputLineNumberNode: Node {
    private let depth: Int
    /// Creates the node reading the context slot at `depth`.
    init(depth: Int) { self.depth = depth }

    override var isSingle: Bool { true }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let line = env.value(at: depth)
        if case .null = line { throw EvaluationError("Unknown input line number") }
        return line
    }
}

/// `until(cond; update)` and `while(cond; update)`, as jq defines them, looping while `update`
/// yields one output per step and recursing (as jq's definitions do) when it yields several.
final class UntilNode: Node {
    private let condition: Node
    private let update: Node
    private let emitsEachStep: Bool

    /// `emitsEachStep`: `while` (emit each value while `cond` holds) rather than `until` (emit the first where it holds).
    init(condition: Node, update: Node, emitsEachStep: Bool) {
        self.condition = condition
        self.update = update
        self.emitsEachStep = emitsEachStep
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if condition.isSingle && update.isSingle {
            var current = input
            while true {
                let holds = try condition.single(current, env).isTruthy
                if emitsEachStep {
                    guard holds else { return }
                    try emit(current)
                } else if holds {
                    return try emit(current)
                }
                current = try update.single(current, env)
            }
        }
        try step(input, env, emit)
    }

    private func step(_ value: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try StackGuard.check()
        try condition.run(value, env) { holds in
            if self.emitsEachStep {
                guard holds.isTruthy else { return }
                try emit(value)
                try self.update.run(value, env) { try self.step($0, env, emit) }
            } else if holds.isTruthy {
                try emit(value)
            } else {
                try self.update.run(value, env) { try self.step($0, env, emit) }
            }
        }
    }
}
