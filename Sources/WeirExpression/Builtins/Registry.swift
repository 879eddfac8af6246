#if canImport(Glibc)
import Glibc
#endif
import WeirCore

/// How a builtin is built from its compiled arguments.
struct Builtin: Sendable {
    /// Makes the node for a call with these argument nodes.
    let make: @Sendable ([Node]) throws(ExpressionSyntaxError) -> Node

    /// A builtin that maps its input to one value.
    static func unary(_ function: @escaping @Sendable (JSONValue) throws -> JSONValue) -> Builtin {
        Builtin { _ in UnaryBuiltinNode(function) }
    }

    /// A builtin whose arguments are values (every combination, last argument outermost).
    static func values(_ function: @escaping @Sendable (JSONValue, [JSONValue]) throws -> JSONValue) -> Builtin {
        Builtin { arguments in ValuesBuiltinNode(arguments: arguments, function: function) }
    }

    /// A builtin with its own node.
    static func node(_ make: @escaping @Sendable ([Node]) -> Node) -> Builtin {
        Builtin { arguments in make(arguments) }
    }
}

/// The native builtins, by `name/arity`, gathered from each family.
enum Builtins {
    /// Every native builtin (consulted at compile time only).
    static let table: [String: Builtin] = {
        var table: [String: Builtin] = [:]
        for family in [coreBuiltins, stringBuiltins, arrayBuiltins, mathBuiltins, pathBuiltins, regexBuiltins, dateBuiltins, formatBuiltins] {
            table.merge(family) { first, _ in first }
        }
        return table
    }()

    /// jq builtins Weir refuses with "`name` is not supported" (they need I/O or state a stage does not have).
    static let unsupported: Set<String> = [
        "input", "inputs", "halt", "halt_error", "get_search_list", "modulemeta", "get_prog_origin", "get_jq_origin",
        "builtins", "input_stream", "getschema",
    ]

    /// `$ENV` / `env`: the process environment as an object.
    static func environmentObject() -> JSONValue {
        var object = JSONObject()
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                object[String(text[..<equals])] = .string(String(text[text.index(after: equals)...]))
            }
            pointer += 1
        }
        return .object(object)
    }

    /// The error for a builtin given the wrong kind of input.
    static func typeError(_ value: JSONValue, _ what: String) -> EvaluationError {
        EvaluationError("\(ValueOperations.describe(value)) \(what)")
    }
}

/// A builtin that maps its input to one value.
final class UnaryBuiltinNode: Node {
    private let function: @Sendable (JSONValue) throws -> JSONValue
    /// Creates the node from its compiled parts.
    init(_ function: @escaping @Sendable (JSONValue) throws -> JSONValue) { self.function = function }
    override var isSingle: Bool { true }
    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue { try function(input) }
}

/// A builtin whose arguments are evaluated to values against `.`.
final class ValuesBuiltinNode: Node {
    private let arguments: [Node]
    private let function: @Sendable (JSONValue, [JSONValue]) throws -> JSONValue
    private let allSingle: Bool

    /// Creates the node from its compiled parts.
    init(arguments: [Node], function: @escaping @Sendable (JSONValue, [JSONValue]) throws -> JSONValue) {
        self.arguments = arguments
        self.function = function
        self.allSingle = arguments.allSatisfy(\.isSingle)
    }

    override var isSingle: Bool { allSingle }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        var values: [JSONValue] = []
        values.reserveCapacity(arguments.count)
        for argument in arguments { values.append(try argument.single(input, env)) }
        return try function(input, values)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if allSingle { return try emit(try single(input, env)) }
        var values = [JSONValue](repeating: .null, count: arguments.count)
        try combine(arguments.count - 1, &values, input, env, emit)
    }

    private func combine(_ position: Int, _ values: inout [JSONValue], _ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard position >= 0 else { return try emit(try function(input, values)) }
        var local = values
        try arguments[position].run(input, env) { value in
            local[position] = value
            try self.combine(position - 1, &local, input, env, emit)
        }
    }
}
