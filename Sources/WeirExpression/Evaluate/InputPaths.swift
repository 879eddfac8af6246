import WeirCore

/// Works out which parts of `.` a program can observe, conservatively.
///
/// The analysis follows values that are exactly a part of the input (`.`, `.a.b`, `$x` bound to
/// `.a`): such a value is described by its paths from the root and costs nothing until it is
/// *used*. A use either needs the whole value (arithmetic, comparison, output, construction,
/// most builtins) or only its truthiness (conditions), which keeping the value's kind already
/// preserves (``JSONPathTree`` keeps non-objects whole and objects as objects). Anything the
/// analysis does not model precisely (user functions, `reduce`, assignment, `..`, `.[]`, …)
/// marks its input, and every variable bound to a part of the input, as whole.
struct InputPathAnalysis {
    /// The names bound from the command line.
    let variableNames: [String]

    /// What `evaluate` needs: everything that can reach an output or an error.
    func inputPaths(_ expression: Expression) -> JSONPathTree {
        let state = State()
        let result = state.analyze(expression, input: [[]], scope: Scope(variables: [:], userFunctions: []))
        state.useWhole(result)
        return state.tree
    }

    /// What `isSatisfied` needs: the same, but only the truthiness of the outputs.
    func conditionPaths(_ expression: Expression) -> JSONPathTree {
        let state = State()
        let result = state.analyze(expression, input: [[]], scope: Scope(variables: [:], userFunctions: []))
        state.useTruth(result)
        return state.tree
    }

    /// Root paths of a value: `nil` when it is not (known to be) a part of the input.
    typealias Paths = [[String]]?

    /// Variables bound to parts of the input, and user-defined function names.
    struct Scope {
        var variables: [String: Paths]
        var userFunctions: Set<String>
    }

    private final class State {
        var tree = JSONPathTree.none

        func useWhole(_ paths: Paths) {
            guard let paths else { return }
            for path in paths { tree.insert(path) }
        }

        func useTruth(_ paths: Paths) {
            guard let paths else { return }
            for path in paths { Self.touch(&tree, path[...]) }
        }

        private static func touch(_ tree: inout JSONPathTree, _ keys: ArraySlice<String>) {
            guard !tree.isWhole, let first = keys.first else { return }
            touch(&tree.children[first, default: .none], keys.dropFirst())
        }

        func conservative(_ input: Paths, _ scope: Scope) -> Paths {
            useWhole(input)
            for paths in scope.variables.values { useWhole(paths) }
            return nil
        }

        /// Either value: exact paths only when both are; otherwise the exact side is used whole.
        func union(_ a: Paths, _ b: Paths) -> Paths {
            guard let a, let b else {
                useWhole(a)
                useWhole(b)
                return nil
            }
            // Distinct paths only, and not too many: `.a // .b | .c // .d | …` doubles them at
            // each step (found by `bin/fuzz expression-parse`, a timeout); past the limit they
            // are kept whole and the value is no longer followed.
            var seen = Set(a)
            let merged = a + b.filter { seen.insert($0).inserted }
            guard merged.count <= Self.maximumPaths else {
                useWhole(merged)
                return nil
            }
            return merged
        }

        /// The most paths followed for one value.
        static let maximumPaths = 64

        /// Builtins whose arguments are values computed from `.` and whose result is a new value.
        static let valueBuiltins: Set<String> = [
            "length/0", "utf8bytelength/0", "keys/0", "keys_unsorted/0", "has/1", "contains/1", "type/0", "tostring/0",
            "tojson/0", "fromjson/0", "tonumber/0", "toboolean/0", "isinfinite/0", "isnan/0", "isnormal/0", "add/0",
            "setpath/2", "delpaths/1", "to_entries/0", "abs/0", "startswith/1", "endswith/1", "ltrimstr/1",
            "rtrimstr/1", "explode/0", "implode/0", "split/1", "split/2", "ascii_downcase/0", "ascii_upcase/0", "trim/0",
            "ltrim/0", "rtrim/0", "indices/1", "index/1", "rindex/1", "sort/0", "unique/0", "min/0", "max/0", "reverse/0",
            "floor/0", "ceil/0", "round/0", "sqrt/0", "pow/2", "log/0", "exp/0", "log10/0", "log2/0", "exp10/0", "exp2/0",
            "fabs/0", "trunc/0", "significand/0", "test/1", "test/2", "join/1", "flatten/0", "flatten/1", "getpath/1",
            "strftime/1", "strptime/1", "mktime/0", "gmtime/0", "localtime/0", "todate/0", "fromdate/0", "todateiso8601/0",
            "fromdateiso8601/0", "format/1", "tostream/0", "transpose/0", "first/0", "last/0", "nth/1",
            "ascii/0", "values/0", "nulls/0", "numbers/0", "strings/0", "booleans/0", "arrays/0", "objects/0", "iterables/0",
            "scalars/0", "in/1", "inside/1", "splits/1", "splits/2", "scan/1", "scan/2", "match/1", "match/2", "capture/1",
            "capture/2", "any/0", "all/0", "combinations/0", "paths/0",
        ]

        /// Builtins that do not look at `.` at all.
        static let constantBuiltins: Set<String> = [
            "true/0", "false/0", "null/0", "nan/0", "infinite/0", "now/0", "env/0", "input_filename/0",
            "input_line_number/0", "have_decnum/0", "have_literal_numbers/0",
        ]

        func analyze(_ expression: Expression, input: Paths, scope: Scope) -> Paths {
            switch expression {
            case .identity:
                return input
            case .literal, .location:
                return nil
            case .recurseAll, .format:
                useWhole(input)
                return nil
            case .string(let segments, _):
                for case .interpolation(let inner) in segments { useWhole(analyze(inner, input: input, scope: scope)) }
                return nil
            case .index(let target, .literal(.string(let name))):
                // Indexing observes the target's kind (an object or null, or an error), even when
                // the result is never used (`.b | .a | 1` fails on `{"b":1}`): keep every step.
                let paths = analyze(target, input: input, scope: scope).map { $0.map { $0 + [name] } }
                useTruth(paths)
                return paths
            case .index(let target, let key):
                useWhole(analyze(target, input: input, scope: scope))
                useWhole(analyze(key, input: input, scope: scope))
                return nil
            case .slice(let target, let from, let to):
                useWhole(analyze(target, input: input, scope: scope))
                if let from { useWhole(analyze(from, input: input, scope: scope)) }
                if let to { useWhole(analyze(to, input: input, scope: scope)) }
                return nil
            case .iterate(let target):
                useWhole(analyze(target, input: input, scope: scope))
                return nil
            case .optional(let inner):
                return analyze(inner, input: input, scope: scope)
            case .tryCatch(let body, let handler):
                let result = analyze(body, input: input, scope: scope)
                guard let handler else { return result }
                return union(result, analyze(handler, input: nil, scope: scope))
            case .pipe(let left, let right):
                return analyze(right, input: analyze(left, input: input, scope: scope), scope: scope)
            case .comma(let left, let right):
                return union(analyze(left, input: input, scope: scope), analyze(right, input: input, scope: scope))
            case .binary(_, let left, let right):
                useWhole(analyze(left, input: input, scope: scope))
                useWhole(analyze(right, input: input, scope: scope))
                return nil
            case .and(let left, let right), .or(let left, let right):
                useTruth(analyze(left, input: input, scope: scope))
                useTruth(analyze(right, input: input, scope: scope))
                return nil
            case .alternative(let left, let right):
                return union(analyze(left, input: input, scope: scope), analyze(right, input: input, scope: scope))
            case .negate(let operand):
                useWhole(analyze(operand, input: input, scope: scope))
                return nil
            case .array(let body):
                if let body { useWhole(analyze(body, input: input, scope: scope)) }
                return nil
            case .object(let entries):
                for entry in entries {
                    switch entry.key {
                    case .name(let name):
                        useWhole(analyze(entry.value ?? .index(.identity, .literal(.string(name))), input: input, scope: scope))
                    case .variable(let name, let offset):
                        useWhole(analyze(entry.value ?? .variable(name, offset: offset), input: input, scope: scope))
                        if entry.value != nil { useWhole(scope.variables[name] ?? nil) }
                    case .computed(let key):
                        useWhole(analyze(key, input: input, scope: scope))
                        if let value = entry.value {
                            useWhole(analyze(value, input: input, scope: scope))
                        } else {
                            useWhole(input)
                        }
                    }
                }
                return nil
            case .ifThen(let branches, let otherwise):
                var result: Paths = otherwise.map { analyze($0, input: input, scope: scope) } ?? input
                for (condition, then) in branches {
                    useTruth(analyze(condition, input: input, scope: scope))
                    result = union(result, analyze(then, input: input, scope: scope))
                }
                return result
            case .bind(let source, let patterns, let body):
                let value = analyze(source, input: input, scope: scope)
                var inner = scope
                if patterns.count == 1, case .variable(let name) = patterns[0] {
                    inner.variables[name] = value
                } else {
                    _ = conservative(value, scope)
                    for pattern in patterns { State.bindUnknown(pattern, &inner) }
                }
                return analyze(body, input: input, scope: inner)
            case .functionDefinition(let definition, let rest):
                var inner = scope
                inner.userFunctions.insert("\(definition.name)/\(definition.parameters.count)")
                return analyze(rest, input: input, scope: inner)
            case .call(let name, let arguments, _):
                let key = "\(name)/\(arguments.count)"
                if scope.userFunctions.contains(key) { return conservative(input, scope) }
                if State.constantBuiltins.contains(key) { return nil }
                switch key {
                case "empty/0": return []
                case "error/0":
                    useWhole(input)
                    return []
                case "error/1":
                    useWhole(analyze(arguments[0], input: input, scope: scope))
                    return []
                case "select/1":
                    useTruth(analyze(arguments[0], input: input, scope: scope))
                    return input
                case "not/0":
                    useTruth(input)
                    return nil
                default:
                    guard State.valueBuiltins.contains(key) else { return conservative(input, scope) }
                    useWhole(input)
                    for argument in arguments { useWhole(analyze(argument, input: input, scope: scope)) }
                    return nil
                }
            case .variable(let name, _):
                return scope.variables[name] ?? nil
            case .reduce, .foreach, .assign:
                return conservative(input, scope)
            case .label(_, let body):
                return analyze(body, input: input, scope: scope)
            case .breakLabel:
                return []
            }
        }

        static func bindUnknown(_ pattern: Pattern, _ scope: inout Scope) {
            switch pattern {
            case .variable(let name): scope.variables[name] = .some(nil)
            case .array(let elements): for element in elements { bindUnknown(element, &scope) }
            case .object(let entries):
                for entry in entries {
                    if case .variable(let name) = entry.key { scope.variables[name] = .some(nil) }
                    if let inner = entry.pattern { bindUnknown(inner, &scope) }
                }
            }
        }
    }
}
