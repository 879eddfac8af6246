import WeirCore

/// Thrown by a consumer that needs only the first output of a generator.
struct StopSignal: Error {}

/// `lhs = rhs`, `lhs |= f`, `lhs += rhs`, … with jq 1.8's semantics: paths come from the
/// original input; `|=` uses the first output of `f` and deletes paths where `f` is empty.
final class AssignNode: Node {
    private let op: AssignmentOperator
    private let lhs: Node
    private let rhs: Node

    /// Creates the node from its compiled parts.
    init(op: AssignmentOperator, lhs: Node, rhs: Node) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
    }

    private func collectPaths(_ input: JSONValue, _ env: Environment) throws -> [[JSONValue]] {
        var paths: [[JSONValue]] = []
        try PathTracking.tracking([], input) {
            try lhs.paths(input, [], env) { path, value in paths.append(try PathMode.result(path, value)) }
        }
        return paths
    }

    private func modify(_ input: JSONValue, _ env: Environment, _ update: (JSONValue) throws -> JSONValue?) throws -> JSONValue {
        let paths = try collectPaths(input, env)
        var result = input
        var deletions: [JSONValue] = []
        for path in paths {
            let old = try ValueOperations.getPath(result, path)
            if let new = try update(old) {
                result = try ValueOperations.setPath(result, path[...], new)
            } else {
                deletions.append(.array(path))
            }
        }
        if !deletions.isEmpty { result = try ValueOperations.deletePaths(result, deletions) }
        return result
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        switch op {
        case .set:
            try rhs.run(input, env) { value in
                var result = input
                for path in try self.collectPaths(input, env) {
                    result = try ValueOperations.setPath(result, path[...], value)
                }
                try emit(result)
            }
        case .update:
            let rhs = self.rhs
            try emit(try modify(input, env) { old in
                var first: JSONValue?
                do {
                    try rhs.run(old, env) { value in
                        first = value
                        throw StopSignal()
                    }
                } catch is StopSignal {}
                return first
            })
        case .alternative:
            try rhs.run(input, env) { value in
                try emit(try self.modify(input, env) { old in old.isTruthy ? old : value })
            }
        default:
            let binary: BinaryOperator
            switch op {
            case .add: binary = .add
            case .subtract: binary = .subtract
            case .multiply: binary = .multiply
            case .divide: binary = .divide
            default: binary = .modulo
            }
            try rhs.run(input, env) { value in
                try emit(try self.modify(input, env) { old in try ValueOperations.apply(binary, old, value) })
            }
        }
    }
}

/// `path(f)`: the paths `f` would visit, as arrays.
final class PathOfNode: Node {
    private let body: Node
    /// Creates the node from its compiled parts.
    init(body: Node) { self.body = body }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try PathTracking.tracking([], input) {
            try body.paths(input, [], env) { path, value in try emit(.array(try PathMode.result(path, value))) }
        }
    }
}

/// `getpath(p)`, which is also a path expression.
final class GetPathNode: Node {
    private let argument: Node
    /// Creates the node from its compiled parts.
    init(argument: Node) { self.argument = argument }

    override var isSingle: Bool { argument.isSingle }

    private static func keys(_ value: JSONValue) throws -> [JSONValue] {
        guard case .array(let keys) = value else { throw EvaluationError("Path must be specified as an array") }
        return keys
    }

    override func single(_ input: JSONValue, _ env: Environment) throws -> JSONValue {
        let path = try Self.keys(try argument.single(input, env))
        do { return try ValueOperations.getPath(input, path) } catch { throw error }
    }

    override func run(_ input: JSONValue, _ env: Environment, _ emit: Emit) throws {
        try argument.run(input, env) { try emit(try ValueOperations.getPath(input, try Self.keys($0))) }
    }

    override func paths(_ input: JSONValue, _ path: [JSONValue]?, _ env: Environment, _ emit: PathEmit) throws {
        try argument.run(input, env) { value in
            let keys = try Self.keys(value)
            let found = try ValueOperations.getPath(input, keys)
            try emit(try PathMode.result(path, input) + keys, found)
        }
    }
}
