import WeirCore

/// A destructuring pattern with its variables resolved to slots.
indirect enum CompiledPattern {
    /// `$name`, bound to a slot.
    case variable(slot: Int)
    /// `[p1, p2, …]`.
    case array([CompiledPattern])
    /// `{key: p, …}`.
    case object([(key: CompiledPatternKey, pattern: CompiledPattern?)])
}

/// The key of an object pattern entry, resolved.
enum CompiledPatternKey {
    /// A constant key.
    case constant(String)
    /// `$name` as a key: binds the slot and indexes by the name.
    case variable(slot: Int, name: String)
    /// `(expression)`: keys computed against the value being matched.
    case computed(Node)
}

/// Binds the values of one or more alternative patterns (`as $x`, `as [$a, $b] ?// $c`) to
/// consecutive environment slots, one per distinct variable name.
final class Binder: @unchecked Sendable {
    /// The patterns, tried in order (`?//`).
    let alternatives: [CompiledPattern]
    /// How many variables the patterns bind (one slot each).
    let slotCount: Int
    private let simple: Bool

    /// Creates the node from its compiled parts.
    init(alternatives: [CompiledPattern], slotCount: Int) {
        self.alternatives = alternatives
        self.slotCount = slotCount
        if alternatives.count == 1, case .variable = alternatives[0] { simple = true } else { simple = false }
    }

    /// Calls `body` with an environment binding the pattern's variables to parts of `value`.
    @inline(__always)
    func bind(_ value: JSONValue, _ env: Environment, _ body: (Environment) throws -> Void) throws {
        if simple { return try body(Environment(parent: env, binding: .value(value))) }
        try bindAlternatives(value, env, body)
    }

    private func bindAlternatives(_ value: JSONValue, _ env: Environment, _ body: (Environment) throws -> Void) throws {
        for (position, pattern) in alternatives.enumerated() {
            let isLast = position == alternatives.count - 1
            var values = [JSONValue?](repeating: nil, count: slotCount)
            if isLast {
                try destructure(pattern, value, env, &values) { values in try body(self.environment(env, values)) }
                return
            }
            do {
                try destructure(pattern, value, env, &values) { values in
                    try body(self.environment(env, values))
                }
                return
            } catch let error as PassThroughError {
                throw error.inner
            } catch is EvaluationError {
                continue
            }
        }
    }

    private func environment(_ env: Environment, _ values: [JSONValue?]) -> Environment {
        var result = env
        for value in values { result = Environment(parent: result, binding: .value(value ?? .null)) }
        return result
    }

    private func destructure(_ pattern: CompiledPattern, _ value: JSONValue, _ env: Environment, _ values: inout [JSONValue?], _ done: ([JSONValue?]) throws -> Void) throws {
        switch pattern {
        case .variable(let slot):
            values[slot] = value
            try done(values)
        case .array(let elements):
            // A value that is not an array fails on the first index taken: the last element's.
            try destructureElements(elements[...], value, env, values, done)
        case .object(let entries):
            if case .object = value {} else if case .null = value {} else {
                _ = try ValueOperations.index(value, .string(Self.firstKeyName(entries)))
            }
            try destructureEntries(entries[...], value, env, values, done)
        }
    }

    private static func firstKeyName(_ entries: [(key: CompiledPatternKey, pattern: CompiledPattern?)]) -> String {
        switch entries.first?.key {
        case .constant(let name)?: return name
        case .variable(_, let name)?: return name
        default: return ""
        }
    }

    /// Binds `elements` (the first `elements.count` of the pattern) last to first, as jq does:
    /// `. as [$a, [$b]]` on `[1,2]` fails on the second element before looking at the first.
    private func destructureElements(_ elements: ArraySlice<CompiledPattern>, _ value: JSONValue, _ env: Environment, _ values: [JSONValue?], _ done: ([JSONValue?]) throws -> Void) throws {
        guard let last = elements.last else { return try done(values) }
        var current = values
        let element = try ValueOperations.index(value, .number(elements.count - 1))
        try destructure(last, element, env, &current) { bound in
            try self.destructureElements(elements.dropLast(), value, env, bound, done)
        }
    }

    private func destructureEntries(_ entries: ArraySlice<(key: CompiledPatternKey, pattern: CompiledPattern?)>, _ value: JSONValue, _ env: Environment, _ values: [JSONValue?], _ done: ([JSONValue?]) throws -> Void) throws {
        guard let first = entries.first else { return try done(values) }
        let rest = entries.dropFirst()
        func withKey(_ key: JSONValue, _ slot: Int?) throws {
            guard case .string = key else {
                throw EvaluationError("Cannot index \(value.typeName) with \(key.typeName)")
            }
            let element = try ValueOperations.index(value, key)
            var current = values
            if let slot { current[slot] = element }
            if let pattern = first.pattern {
                try destructure(pattern, element, env, &current) { bound in
                    try self.destructureEntries(rest, value, env, bound, done)
                }
            } else {
                try destructureEntries(rest, value, env, current, done)
            }
        }
        switch first.key {
        case .constant(let name): try withKey(.string(name), nil)
        case .variable(let slot, let name): try withKey(.string(name), slot)
        case .computed(let node):
            try node.run(value, environment(env, values)) { key in try withKey(key, nil) }
        }
    }
}

/// `source as $pattern | body`.
final class BindNode: Node {
    private let source: Node
    private let binder: Binder
    private let body: Node

    /// Creates the node from its compiled parts.
    init(source: Node, binder: Binder, body: Node) {
        self.source = source
        self.binder = binder
        self.body = body
    }

    override var isSingle: Bool { source.isSingle && body.isSingle && binder.alternatives.count == 1 && binder.slotCount == 1 && { if case .variable = binder.alternatives[0] { return true } else { return false } }() }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let value = try source.single(input, env)
        return try body.single(input, Environment(parent: env, binding: .value(value)))
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        let body = self.body, binder = self.binder
        // With `?//`, an error raised after an output, downstream in the same generator, also makes
        // jq try the next pattern (its fork point is still on the stack): so errors from `emit`
        // are not told apart from the body's.
        try source.run(input, env) { value in
            try binder.bind(value, env) { try body.run(input, $0, emit) }
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        let body = self.body, binder = self.binder
        try source.run(input, env) { value in
            try binder.bind(value, env) { try body.paths(input, path, $0, emit) }
        }
    }
}

/// `reduce source as $x (initial; update)`.
final class ReduceNode: Node {
    private let source: Node
    private let binder: Binder
    private let initial: Node
    private let update: Node

    /// Creates the node from its compiled parts.
    init(source: Node, binder: Binder, initial: Node, update: Node) {
        self.source = source
        self.binder = binder
        self.initial = initial
        self.update = update
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        var isFirstStart = true
        try initial.run(input, env) { start in
            var state: JSONValue = start
            // jq 1.8 runs the source on `null` for every initial value after the first (its
            // bytecode has given the input up by then): `reduce (.a // 5) as $x ((1, 2); . + $x)`
            // on {"a":10} gives 11, then 7.
            let sourceInput = isFirstStart ? input : .null
            isFirstStart = false
            try self.source.run(sourceInput, env) { value in
                try self.binder.bind(value, env) { bodyEnv in
                    if self.update.isSingle {
                        state = try self.update.single(state, bodyEnv)
                        return
                    }
                    var last: JSONValue = .null
                    let current = state
                    state = .null  // lets the update mutate the state in place
                    try self.update.run(current, bodyEnv) { last = $0 }
                    state = last
                }
            }
            try emit(state)
        }
    }

    /// Path mode as jq 1.8 tracks it: the state keeps its path through the first update only
    /// (afterwards it comes from a variable, so indexing it is "Invalid path expression near …").
    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try initial.paths(input, path, env) { startPath, start in
            var state: ([JSONValue]?, JSONValue) = (startPath, start)
            var first = true
            try self.source.run(input, env) { value in
                try self.binder.bind(value, env) { bodyEnv in
                    var last: ([JSONValue]?, JSONValue) = (nil, .null)
                    try self.update.paths(state.1, first ? state.0 : nil, bodyEnv) { last = ($0, $1) }
                    first = false
                    state = last
                }
            }
            try emit(state.0, state.1)
        }
    }
}

/// `foreach source as $x (initial; update; extract)`.
final class ForeachNode: Node {
    private let source: Node
    private let binder: Binder
    private let initial: Node
    private let update: Node
    private let extract: Node?

    /// Creates the node from its compiled parts.
    init(source: Node, binder: Binder, initial: Node, update: Node, extract: Node?) {
        self.source = source
        self.binder = binder
        self.initial = initial
        self.update = update
        self.extract = extract
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try initial.run(input, env) { start in
            var state = start
            try self.source.run(input, env) { value in
                try self.binder.bind(value, env) { bodyEnv in
                    // As jq (LOADVN): the state is the update's last output, null when it has none.
                    let current = state
                    state = .null
                    try self.update.run(current, bodyEnv) { next in
                        state = next
                        if let extract = self.extract { try extract.run(next, bodyEnv, emit) } else { try emit(next) }
                    }
                }
            }
        }
    }

    /// Path mode as jq 1.8 tracks it: the state keeps its path through the first update only.
    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try initial.paths(input, path, env) { startPath, start in
            var state = (startPath, start)
            var first = true
            try self.source.run(input, env) { value in
                try self.binder.bind(value, env) { bodyEnv in
                    let currentPath = first ? state.0 : nil
                    first = false
                    try self.update.paths(state.1, currentPath, bodyEnv) { nextPath, next in
                        state = (nextPath, next)
                        if let extract = self.extract { try extract.paths(next, nextPath, bodyEnv, emit) } else { try emit(nextPath, next) }
                    }
                }
            }
        }
    }
}

/// A compiled `def`: its body and parameter kinds.
final class FunctionNode: @unchecked Sendable {
    /// The name.
    let name: String
    /// For each parameter, whether it is a `$value` parameter.
    let valueParameters: [Bool]
    /// The body (set after compiling, so recursion can refer to the function).
    var body: Node = EmptyNode()
    /// For builtins defined in jq: their own fixed environment (they see no user bindings).
    var staticEnvironment: Environment?

    /// A function whose body is set after compiling it.
    init(name: String, valueParameters: [Bool]) {
        self.name = name
        self.valueParameters = valueParameters
    }
}

/// `def f: …; rest`: makes `f` visible to `rest`.
final class DefinitionNode: Node {
    private let rest: Node
    /// Creates the node from its compiled parts.
    init(rest: Node) { self.rest = rest }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try rest.run(input, Environment(parent: env, binding: .function), emit)
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try rest.paths(input, path, Environment(parent: env, binding: .function), emit)
    }
}

/// A call of a function defined with `def` (by the user or the jq-defined builtins).
final class CallNode: Node {
    private let function: FunctionNode
    private let depth: Int
    private let arguments: [Node]
    private let hasValueParameters: Bool

    /// Creates the node from its compiled parts.
    init(function: FunctionNode, depth: Int, arguments: [Node]) {
        self.function = function
        self.depth = depth
        self.arguments = arguments
        self.hasValueParameters = function.valueParameters.contains(true)
    }

    private func withEnvironment(_ input: JSONValue, _ env: Environment, _ body: (Environment) throws -> Void) throws {
        var callEnv = function.staticEnvironment ?? env.ancestor(depth)
        if !hasValueParameters {
            for argument in arguments { callEnv = Environment(parent: callEnv, binding: .closure(argument, env)) }
            return try body(callEnv)
        }
        try bindParameters(0, callEnv, input, env, body)
    }

    private func bindParameters(_ position: Int, _ callEnv: Environment, _ input: JSONValue, _ env: Environment, _ body: (Environment) throws -> Void) throws {
        guard position < arguments.count else { return try body(callEnv) }
        let argument = arguments[position]
        let withClosure = Environment(parent: callEnv, binding: .closure(argument, env))
        guard function.valueParameters[position] else {
            return try bindParameters(position + 1, withClosure, input, env, body)
        }
        try argument.run(input, env) { value in
            try self.bindParameters(position + 1, Environment(parent: withClosure, binding: .value(value)), input, env, body)
        }
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try StackGuard.check()
        try withEnvironment(input, env) { try function.body.run(input, $0, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try StackGuard.check()
        try withEnvironment(input, env) { try function.body.paths(input, path, $0, emit) }
    }
}

/// A call of a closure parameter (`f` inside `def g(f): … f …`).
final class ClosureCallNode: Node {
    private let depth: Int
    /// Creates the node from its compiled parts.
    init(depth: Int) { self.depth = depth }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard case .closure(let node, let closureEnv) = env.ancestor(depth).binding else { return }
        try node.run(input, closureEnv, emit)
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        guard case .closure(let node, let closureEnv) = env.ancestor(depth).binding else { return }
        try node.paths(input, path, closureEnv, emit)
    }
}
