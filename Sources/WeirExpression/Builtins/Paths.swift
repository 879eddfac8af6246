import WeirCore

extension Builtins {
    /// Path builtins: `setpath`, `delpaths` (`path`, `getpath`, `paths`, `del`, … are in the compiler and the prelude).
    static var pathBuiltins: [String: Builtin] {
        [
            "setpath/2": .values { value, arguments in
                guard case .array(let path) = arguments[0] else { throw EvaluationError("Path must be specified as an array") }
                guard path.count <= 10000 else { throw EvaluationError("Path too deep") }
                return try ValueOperations.setPath(value, path[...], arguments[1])
            },
            "delpaths/1": .values { value, arguments in
                guard case .array(let paths) = arguments[0] else { throw EvaluationError("Paths must be specified as an array") }
                return try ValueOperations.deletePaths(value, paths)
            },
        ]
    }
}
