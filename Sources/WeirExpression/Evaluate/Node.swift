import WeirCore

/// A compiled expression: a tree of nodes with builtins and variables already resolved.
///
/// Every node is a generator: ``run(_:_:_:)`` calls `emit` once per output, in order
/// (continuation-passing, no intermediate arrays). Nodes that always yield exactly one
/// output report ``isSingle`` and implement ``single(_:_:)``, the fast path the common
/// cases (`.a.b`, literals, comparisons, object construction) take without closures.
/// ``paths(_:_:_:_:)`` is path mode, for `path(f)` and assignments.
class Node {
    /// True when the node always yields exactly one output (or throws).
    var isSingle: Bool { false }

    /// Calls `emit` for each output on `input`.
    func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try emit(try single(input, env))
    }

    /// The one output (only for nodes whose ``isSingle`` is true).
    func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        var result: JSONValue = .null
        try run(input, env) { result = $0 }
        return result
    }

    /// Path mode: calls `emit` with the path (from the `path(…)` root) and value of each output.
    ///
    /// A node that is not a path expression emits its values with a `nil` path; indexing such a
    /// value, or using it as a path, is the error (as in jq). Except that jq checks a value
    /// against the one at the path by identity, and every null, true or false is identical to
    /// another of its kind: an output equal to its input that is one of those keeps the input's
    /// path (`null | path(null)` is `[]`, `1 | path(null)` an error), and one equal to the value
    /// at the last path reached stands for that path (``PathTracking``: `true | path(not | not)`).
    func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try run(input, env) { try emit(PathMode.isIdenticalScalar($0, input) ? path : nil, $0) }
    }
}

/// Path-mode helpers.
enum PathMode {
    /// `path + [key]`, or jq's error when the value came from a non-path expression.
    @inline(__always)
    static func extend(_ path: [JSONValue]?, _ key: JSONValue, of value: JSONValue) throws -> [JSONValue] {
        guard let path = path ?? PathTracking.path(standingFor: value) else {
            throw EvaluationError("Invalid path expression near attempt to access element \(ValueOperations.truncatedText(key)) of \(ValueOperations.truncatedText(value))")
        }
        return path + [key]
    }

    /// The path, or jq's error for iterating a value that came from a non-path expression.
    static func iterable(_ path: [JSONValue]?, _ value: JSONValue) throws -> [JSONValue] {
        guard let path = path ?? PathTracking.path(standingFor: value) else {
            throw EvaluationError("Invalid path expression near attempt to iterate through \(ValueOperations.truncatedText(value))")
        }
        return path
    }

    /// Whether jq takes `output` for the very value `input` in path mode: both null, or the same
    /// boolean. (Strings, numbers, arrays and objects are compared by pointer in jq, which a
    /// value type cannot mirror; they count as new values, so `path(1)` is an error as in jq.)
    @inline(__always)
    static func isIdenticalScalar(_ output: JSONValue, _ input: JSONValue) -> Bool {
        switch (output, input) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        default: return false
        }
    }

    /// A finished path, or jq's error for a result that is not a path.
    static func result(_ path: [JSONValue]?, _ value: JSONValue) throws -> [JSONValue] {
        guard let path = path ?? PathTracking.path(standingFor: value) else {
            throw EvaluationError("Invalid path expression with result \(ValueOperations.truncatedText(value))")
        }
        return path
    }
}

/// `.`
final class IdentityNode: Node {
    override var isSingle: Bool { true }
    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue { input }
    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws { try emit(input) }
    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try emit(path, input)
    }
}

/// A constant.
final class LiteralNode: Node {
    private let value: JSONValue
    /// Creates the node from its compiled parts.
    init(_ value: JSONValue) { self.value = value }
    override var isSingle: Bool { true }
    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue { value }
}

/// `$name`, resolved to a depth in the environment.
final class VariableNode: Node {
    private let depth: Int
    /// Creates the node from its compiled parts.
    init(depth: Int) { self.depth = depth }
    override var isSingle: Bool { true }
    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue { env.value(at: depth) }
}

/// An access (`.a`, `.[k]`, `.[]`, `.[m:n]`) that `?` can make optional: then a failure of the
/// access itself yields nothing for that value (errors of the target or key still propagate).
protocol OptionalAccess: AnyObject {
    /// Whether a failure of the access yields nothing.
    var isOptional: Bool { get set }
}

/// `target.name` (and `."name"`, `.["name"]`): the hot path of most programs.
final class FieldNode: Node, OptionalAccess {
    /// Whether a failure of the access yields nothing (`?`).
    var isOptional = false
    /// The value being indexed (`nil`: the input).
    let target: Node?
    /// The name.
    let name: String
    private let targetIsSingle: Bool

    /// Creates the node from its compiled parts.
    init(target: Node?, name: String) {
        self.target = target
        self.name = name
        self.targetIsSingle = target?.isSingle ?? true
    }

    override var isSingle: Bool { targetIsSingle && !isOptional }

    @inline(__always)
    private func field(_ value: JSONValue) throws -> JSONValue {
        switch value {
        case .object(let object): return object[name] ?? .null
        case .null: return .null
        default: throw EvaluationError("Cannot index \(value.typeName) with \(ValueOperations.describe(.string(name)))")
        }
    }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        guard let target else { return try field(input) }
        return try field(try target.single(input, env))
    }

    private func optionalField(_ value: JSONValue, _ emit: Emit) throws {
        let result: JSONValue
        do { result = try field(value) } catch { return }
        try emit(result)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if isOptional {
            guard let target else { return try optionalField(input, emit) }
            return try target.run(input, env) { try self.optionalField($0, emit) }
        }
        guard let target else { return try emit(try field(input)) }
        if targetIsSingle { return try emit(try field(try target.single(input, env))) }
        try target.run(input, env) { try emit(try self.field($0)) }
    }

    private func fieldPath(_ subpath: [JSONValue]?, _ value: JSONValue, _ emit: PathEmit) throws {
        // As in jq, `?` does not hide an access on a value that is not a path.
        let extended = try PathMode.extend(subpath, .string(name), of: value)
        let result: JSONValue
        do { result = try field(value) } catch where isOptional { return }
        try emit(extended, result)
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        guard let target else { return try fieldPath(path, input, emit) }
        try target.paths(input, path, env) { subpath, value in try self.fieldPath(subpath, value, emit) }
    }
}

/// `target[key]` with a computed key (evaluated against `.`, outer loop).
final class IndexNode: Node, OptionalAccess {
    /// Whether a failure of the access yields nothing (`?`).
    var isOptional = false
    /// The value being indexed (`nil`: the input).
    let target: Node
    private let key: Node

    /// Creates the node from its compiled parts.
    init(target: Node, key: Node) {
        self.target = target
        self.key = key
    }

    override var isSingle: Bool { target.isSingle && key.isSingle && !isOptional }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let keyValue = try key.single(input, env)
        return try ValueOperations.index(try target.single(input, env), keyValue)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try key.run(input, env) { keyValue in
            try self.target.run(input, env) { value in
                let result: JSONValue
                do { result = try ValueOperations.index(value, keyValue) } catch where self.isOptional { return }
                try emit(result)
            }
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try key.run(input, env) { keyValue in
            try self.target.paths(input, path, env) { subpath, value in
                let extended = try PathMode.extend(subpath, keyValue, of: value)
                let result: JSONValue
                do { result = try ValueOperations.index(value, keyValue) } catch where self.isOptional { return }
                try emit(extended, result)
            }
        }
    }
}

/// `target[from:to]`.
final class SliceNode: Node, OptionalAccess {
    /// Whether a failure of the access yields nothing (`?`).
    var isOptional = false
    /// The value being indexed (`nil`: the input).
    let target: Node
    private let from: Node?
    private let to: Node?

    /// Creates the node from its compiled parts.
    init(target: Node, from: Node?, to: Node?) {
        self.target = target
        self.from = from
        self.to = to
    }

    private func bounds(_ input: JSONValue, _ env: Environment, _ body: (JSONValue, JSONValue) throws -> Void) throws {
        let nullNode = LiteralNode(.null)
        try (to ?? nullNode).run(input, env) { toValue in
            try (self.from ?? nullNode).run(input, env) { fromValue in try body(fromValue, toValue) }
        }
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try bounds(input, env) { fromValue, toValue in
            try self.target.run(input, env) { value in
                let result: JSONValue
                do { result = try ValueOperations.slice(value, from: fromValue, to: toValue) } catch where self.isOptional { return }
                try emit(result)
            }
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try bounds(input, env) { fromValue, toValue in
            try self.target.paths(input, path, env) { subpath, value in
                let key = JSONValue.object(JSONObject([("start", fromValue), ("end", toValue)]))
                let extended = try PathMode.extend(subpath, key, of: value)
                let result: JSONValue
                do { result = try ValueOperations.slice(value, from: fromValue, to: toValue) } catch where self.isOptional { return }
                try emit(extended, result)
            }
        }
    }
}

/// `target[]`.
final class IterateNode: Node, OptionalAccess {
    /// The value being indexed (`nil`: the input).
    let target: Node
    /// Whether a failure of the access yields nothing (`?`).
    var isOptional = false
    /// Creates the node from its compiled parts.
    init(target: Node) { self.target = target }

    @inline(__always)
    private func iterate(_ value: JSONValue, _ emit: Emit) throws {
        switch value {
        case .array(let array): for element in array { try emit(element) }
        case .object(let object): for element in object.values { try emit(element) }
        default:
            if isOptional { return }
            throw EvaluationError("Cannot iterate over \(ValueOperations.describe(value))")
        }
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if target.isSingle { return try iterate(try target.single(input, env), emit) }
        try target.run(input, env) { try self.iterate($0, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try target.paths(input, path, env) { maybePath, value in
            let subpath = try PathMode.iterable(maybePath, value)
            switch value {
            case .array(let array):
                for (position, element) in array.enumerated() { try emit(subpath + [.number(position)], element) }
            case .object(let object):
                for (key, element) in object { try emit(subpath + [.string(key)], element) }
            case .null:
                if !self.isOptional { throw EvaluationError("Cannot iterate over null (null)") }
            default:
                if !self.isOptional { throw EvaluationError("Cannot iterate over \(ValueOperations.describe(value))") }
            }
        }
    }
}

/// `..`: the input and everything under it, depth first.
final class RecurseAllNode: Node {
    private func walk(_ value: JSONValue, _ emit: Emit) throws {
        try emit(value)
        switch value {
        case .array(let array):
            try StackGuard.check()
            for element in array { try walk(element, emit) }
        case .object(let object):
            try StackGuard.check()
            for element in object.values { try walk(element, emit) }
        default: break
        }
    }

    private func walkPaths(_ value: JSONValue, _ maybePath: [JSONValue]?, _ emit: PathEmit) throws {
        try emit(maybePath, value)
        if case .array = value {} else if case .object = value {} else { return }
        let path = try PathMode.iterable(maybePath, value)
        switch value {
        case .array(let array):
            for (position, element) in array.enumerated() { try walkPaths(element, path + [.number(position)], emit) }
        case .object(let object):
            for (key, element) in object { try walkPaths(element, path + [.string(key)], emit) }
        default: break
        }
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws { try walk(input, emit) }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try walkPaths(input, path, emit)
    }
}

/// `try body catch handler`, `body?`: catches errors raised by `body`, not by later stages.
final class TryNode: Node {
    private let body: Node
    private let handler: Node?

    /// Creates the node from its compiled parts.
    init(body: Node, handler: Node?) {
        self.body = body
        self.handler = handler
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        do {
            try body.run(input, env) { value in
                do { try emit(value) } catch { throw PassThroughError(inner: error) }
            }
        } catch let error as PassThroughError {
            throw error.inner
        } catch let error as EvaluationError {
            if let handler {
                try handler.run(error.caughtValue, env, emit)
            }
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        do {
            try body.paths(input, path, env) { subpath, value in
                do { try emit(subpath, value) } catch { throw PassThroughError(inner: error) }
            }
        } catch let error as PassThroughError {
            throw error.inner
        } catch let error as EvaluationError {
            if let handler { try handler.paths(error.caughtValue, path, env, emit) }
        }
    }
}

/// `left | right`.
final class PipeNode: Node {
    private let left: Node
    private let right: Node
    private let bothSingle: Bool

    /// Creates the node from its compiled parts.
    init(left: Node, right: Node) {
        self.left = left
        self.right = right
        self.bothSingle = left.isSingle && right.isSingle
    }

    override var isSingle: Bool { bothSingle }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        try right.single(try left.single(input, env), env)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if left.isSingle { return try right.run(try left.single(input, env), env, emit) }
        let right = self.right
        try left.run(input, env) { try right.run($0, env, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        let right = self.right
        try left.paths(input, path, env) { subpath, value in
            guard let subpath else { return try right.paths(value, nil, env, emit) }
            try PathTracking.tracking(subpath, value) { try right.paths(value, subpath, env, emit) }
        }
    }
}

/// `left, right`.
final class CommaNode: Node {
    private let left: Node
    private let right: Node

    /// Creates the node from its compiled parts.
    init(left: Node, right: Node) {
        self.left = left
        self.right = right
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try left.run(input, env, emit)
        try right.run(input, env, emit)
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try left.paths(input, path, env, emit)
        try right.paths(input, path, env, emit)
    }
}

/// `lhs op rhs` for arithmetic and comparison (right side is the outer loop, as jq).
final class BinaryNode: Node {
    private let op: BinaryOperator
    private let lhs: Node
    private let rhs: Node
    private let bothSingle: Bool

    /// Creates the node from its compiled parts.
    init(op: BinaryOperator, lhs: Node, rhs: Node) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        self.bothSingle = lhs.isSingle && rhs.isSingle
    }

    override var isSingle: Bool { bothSingle }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let right = try rhs.single(input, env)
        return try ValueOperations.apply(op, try lhs.single(input, env), right)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if bothSingle { return try emit(try single(input, env)) }
        let op = self.op, lhs = self.lhs
        try rhs.run(input, env) { right in
            try lhs.run(input, env) { left in try emit(try ValueOperations.apply(op, left, right)) }
        }
    }
}

/// `lhs and rhs`, `lhs or rhs`.
final class LogicalNode: Node {
    private let isAnd: Bool
    private let lhs: Node
    private let rhs: Node
    private let bothSingle: Bool

    /// Creates the node from its compiled parts.
    init(isAnd: Bool, lhs: Node, rhs: Node) {
        self.isAnd = isAnd
        self.lhs = lhs
        self.rhs = rhs
        self.bothSingle = lhs.isSingle && rhs.isSingle
    }

    override var isSingle: Bool { bothSingle }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let left = try lhs.single(input, env).isTruthy
        if isAnd ? !left : left { return .bool(left) }
        return .bool(try rhs.single(input, env).isTruthy)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if bothSingle { return try emit(try single(input, env)) }
        try lhs.run(input, env) { leftValue in
            let left = leftValue.isTruthy
            if self.isAnd ? !left : left { return try emit(.bool(left)) }
            try self.rhs.run(input, env) { try emit(.bool($0.isTruthy)) }
        }
    }

    /// Path mode as jq's: the operands run on the path being built, and the result (true or
    /// false) stands for the last path an operand reached when it is the value there, so
    /// `(["b"] and .[-1]) -= "x"` on `[false,true]` updates `.[-1]` (found by `bin/jq-fuzz`).
    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try lhs.paths(input, path, env) { leftPath, leftValue in
            let left = leftValue.isTruthy
            if self.isAnd ? !left : left { return try Self.emit(.bool(left), reached: leftPath, leftValue, emit) }
            try self.rhs.paths(input, path, env) { rightPath, rightValue in
                // A right operand that reaches no path leaves the left one's as the last reached.
                let (reached, value) = rightPath != nil ? (rightPath, rightValue) : (leftPath, leftValue)
                try Self.emit(.bool(rightValue.isTruthy), reached: reached, value, emit)
            }
        }
    }

    private static func emit(_ result: JSONValue, reached: [JSONValue]?, _ value: JSONValue, _ emit: PathEmit) throws {
        guard let reached else { return try emit(nil, result) }
        try PathTracking.tracking(reached, value) { try emit(nil, result) }
    }
}

/// `lhs // rhs`: the truthy outputs of `lhs`, else the outputs of `rhs` (jq 1.8: errors in `lhs` propagate).
final class AlternativeNode: Node {
    private let lhs: Node
    private let rhs: Node

    /// Creates the node from its compiled parts.
    init(lhs: Node, rhs: Node) {
        self.lhs = lhs
        self.rhs = rhs
    }

    override var isSingle: Bool { lhs.isSingle && rhs.isSingle }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let left = try lhs.single(input, env)
        return left.isTruthy ? left : try rhs.single(input, env)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        var any = false
        try lhs.run(input, env) { value in
            guard value.isTruthy else { return }
            any = true
            try emit(value)
        }
        if !any { try rhs.run(input, env, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        var any = false
        try lhs.paths(input, path, env) { subpath, value in
            guard value.isTruthy else { return }
            any = true
            try emit(subpath, value)
        }
        if !any { try rhs.paths(input, path, env, emit) }
    }
}

/// `-operand`.
final class NegateNode: Node {
    private let operand: Node
    /// Creates the node from its compiled parts.
    init(operand: Node) { self.operand = operand }

    override var isSingle: Bool { operand.isSingle }

    private func negate(_ value: JSONValue) throws -> JSONValue {
        guard case .number(let number) = value else {
            throw EvaluationError("\(ValueOperations.describe(value)) cannot be negated")
        }
        return .number(ValueOperations.negate(number))
    }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        try negate(try operand.single(input, env))
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try operand.run(input, env) { try emit(try self.negate($0)) }
    }
}

/// `[body]`.
final class ArrayNode: Node {
    private let body: Node?
    /// Creates the node from its compiled parts.
    init(body: Node?) { self.body = body }

    override var isSingle: Bool { true }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        guard let body else { return .array([]) }
        if body.isSingle {
            let element = try body.single(input, env)
            try ValueDepth.nest(1, around: element)
            return .array([element])
        }
        var elements: [JSONValue] = []
        try body.run(input, env) { element in
            // An endless or enormous generator (`[range(0; 1; 1e-300)]`) is an error, not a
            // process that grows until the machine runs out of memory.
            guard elements.count < ValueOperations.maximumCollectedArrayCount else {
                throw EvaluationError("an array built by the expression would hold more than \(ValueOperations.maximumCollectedArrayCount) elements")
            }
            elements.append(element)
        }
        try ValueDepth.nest(1, around: elements)
        return .array(elements)
    }
}

/// `{key: value, …}`: every combination of the entries' outputs, first entry outermost.
final class ObjectNode: Node {
    /// One entry: a constant key or a key expression, and the value expression.
    struct Entry {
        var constantKey: String?
        var key: Node?
        var value: Node
    }

    private let entries: [Entry]
    private let allSingleConstant: Bool
    private let distinctKeys: Bool
    /// For constant, distinct keys: an object with every key (null values), copied per record so
    /// only the values array is allocated; the keys array is shared.
    private let template: JSONObject
    private let values: [Node]

    /// Creates the node from its compiled parts.
    init(entries: [Entry]) {
        self.entries = entries
        self.allSingleConstant = entries.allSatisfy { $0.constantKey != nil && $0.value.isSingle }
        let keys = entries.compactMap(\.constantKey)
        self.distinctKeys = Set(keys).count == keys.count
        var template = JSONObject()
        if allSingleConstant && distinctKeys {
            for key in keys { template.appendUnique(key, .null) }
        }
        self.template = template
        self.values = entries.map(\.value)
    }

    override var isSingle: Bool { allSingleConstant }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        guard allSingleConstant else {
            var result: JSONValue = .null
            try run(input, env) { result = $0 }
            return result
        }
        if distinctKeys {
            var object = template
            for (position, key) in template.keys.enumerated() { object[key] = try values[position].single(input, env) }
            try ValueDepth.nest(1, around: object.values)
            return .object(object)
        }
        var object = JSONObject()
        object.reserveCapacity(entries.count)
        do {
            for entry in entries { object[entry.constantKey.unsafelyUnwrapped] = try entry.value.single(input, env) }
        }
        try ValueDepth.nest(1, around: object.values)
        return .object(object)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if allSingleConstant { return try emit(try single(input, env)) }
        try build(0, JSONObject(), input, env, emit)
    }

    private func build(_ position: Int, _ object: JSONObject, _ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard position < entries.count else {
            try ValueDepth.nest(1, around: object.values)
            return try emit(.object(object))
        }
        let entry = entries[position]
        func withKey(_ key: String) throws {
            try entry.value.run(input, env) { value in
                var next = object
                next[key] = value
                try self.build(position + 1, next, input, env, emit)
            }
        }
        if let constantKey = entry.constantKey { return try withKey(constantKey) }
        try entry.key!.run(input, env) { keyValue in
            guard case .string(let key) = keyValue else {
                // jq checks a key when it inserts the pair, after evaluating the value: the
                // value's own error comes first, and a value with no outputs inserts nothing.
                try entry.value.run(input, env) { _ in
                    throw EvaluationError("Cannot use \(ValueOperations.describe(keyValue)) as object key")
                }
                return
            }
            try withKey(key)
        }
    }
}

/// `if c then a elif … else b end` (a missing `else` is `.`).
final class IfNode: Node {
    private let condition: Node
    private let then: Node
    private let otherwise: Node
    private let single: Bool

    /// Creates the node from its compiled parts.
    init(condition: Node, then: Node, otherwise: Node) {
        self.condition = condition
        self.then = then
        self.otherwise = otherwise
        self.single = condition.isSingle && then.isSingle && otherwise.isSingle
    }

    override var isSingle: Bool { single }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        try condition.single(input, env).isTruthy ? try then.single(input, env) : try otherwise.single(input, env)
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if condition.isSingle {
            return try (try condition.single(input, env).isTruthy ? then : otherwise).run(input, env, emit)
        }
        try condition.run(input, env) { try ($0.isTruthy ? self.then : self.otherwise).run(input, env, emit) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try condition.run(input, env) { try ($0.isTruthy ? self.then : self.otherwise).paths(input, path, env, emit) }
    }
}

/// `select(f)`: the input, once per truthy output of `f`.
final class SelectNode: Node {
    private let condition: Node
    /// Creates the node from its compiled parts.
    init(condition: Node) { self.condition = condition }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        if condition.isSingle {
            if try condition.single(input, env).isTruthy { try emit(input) }
            return
        }
        try condition.run(input, env) { if $0.isTruthy { try emit(input) } }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try condition.run(input, env) { if $0.isTruthy { try emit(path, input) } }
    }
}

/// `empty`.
final class EmptyNode: Node {
    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {}
    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {}
}

/// `error` / `error(message)`.
final class ErrorNode: Node {
    private let message: Node?
    /// Creates the node from its compiled parts.
    init(message: Node?) { self.message = message }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard let message else { throw EvaluationError(value: input) }
        try message.run(input, env) { throw EvaluationError(value: $0) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try run(input, env) { _ in }
    }
}

/// `label $name | body`.
final class LabelNode: Node {
    private let body: Node
    /// Creates the node from its compiled parts.
    init(body: Node) { self.body = body }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        let identity = LabelIdentity()
        do {
            try body.run(input, Environment(parent: env, binding: .label(identity)), emit)
        } catch let signal as BreakSignal where signal.label === identity {
        }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        let identity = LabelIdentity()
        do {
            try body.paths(input, path, Environment(parent: env, binding: .label(identity)), emit)
        } catch let signal as BreakSignal where signal.label === identity {
        }
    }
}

/// `break $name`.
final class BreakNode: Node {
    private let depth: Int
    /// Creates the node from its compiled parts.
    init(depth: Int) { self.depth = depth }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        guard case .label(let identity) = env.ancestor(depth).binding else { throw EvaluationError("break without label") }
        throw BreakSignal(label: identity)
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try run(input, env) { _ in }
    }
}
