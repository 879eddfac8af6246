import WeirCore

// The expression language: a jq-compatible subset (jq 1.8 semantics, where 1.7 and 1.8 differ).
//
// Source text goes through the `Lexer` and `Parser` into an `Expression` tree, which the
// `Compiler` turns into `Node`s with variables, functions and builtins resolved, once.
// Evaluation is continuation-passing: each node calls `emit` per output.
//
// API for the stages:
//
//     let program = try Program.compile(".stock > 0", variables: ["min": .number(1)])
//     program.inputPaths                       // JSONPathTree: what of `.` it reads (lazy parsing)
//     program.conditionPaths                   // the same when only truthiness matters (weir-filter)
//     try program.evaluate(record, context: EvaluationContext()) { output in … }
//     try program.isSatisfied(by: record, context: EvaluationContext())
//
// Errors: `ExpressionSyntaxError` (column + message; unsupported constructs are reported here,
// as "`input` is not supported"), `EvaluationError` (jq's wording, plus the value of `error(v)`).

/// Where the current input came from, for `input_filename` and `input_line_number`.
package struct EvaluationContext: Sendable {
    /// The input file's name (`input_filename`), `nil` for stdin.
    package var fileName: String?
    /// The input line (`input_line_number`).
    package var lineNumber: Int?

    /// A context with an optional file name and line number.
    package init(fileName: String? = nil, lineNumber: Int? = nil) {
        self.fileName = fileName
        self.lineNumber = lineNumber
    }
}

/// A compiled expression, ready to run on any number of inputs (from any number of threads).
package final class Program: @unchecked Sendable {
    private let root: Node
    private let baseEnvironment: Environment
    private let usesContext: Bool
    /// The paths of `.` this program can read, or `.whole` when it needs the entire input.
    package let inputPaths: JSONPathTree
    /// The paths of `.` needed to decide whether the program yields a truthy output (``isSatisfied(by:context:)``).
    package let conditionPaths: JSONPathTree

    /// Compiles a program; `variables` are `$name` bindings (from `--arg`, `--argjson`, …).
    package static func compile(_ source: String, variables: [String: JSONValue] = [:]) throws(ExpressionSyntaxError) -> Program {
        try compile(Parser.parse(source), source: source, variables: variables)
    }

    /// Compiles a string template: `template` is read as the inside of a jq string literal
    /// (`out/\(.retailer)/\(.date).ndjson`, escapes as in jq, a bare `"` as itself), so the
    /// program yields strings. `literalPrefix` is the text before the first interpolation
    /// (all of it when there is none).
    package static func compileTemplate(_ template: String, format: String? = nil, variables: [String: JSONValue] = [:]) throws(ExpressionSyntaxError) -> (program: Program, literalPrefix: String) {
        var expression = try Parser.parseTemplate(template)
        if let format, case .string(let segments, _) = expression {
            // As jq's `@uri "…\(.x)"`: the format applies to the interpolated values only.
            expression = .string(segments, format: format)
        }
        var prefix = ""
        switch expression {
        case .literal(.string(let text)): prefix = text
        case .string(let segments, _): if case .text(let text)? = segments.first { prefix = text }
        default: break
        }
        return (try compile(expression, source: template, variables: variables), prefix)
    }

    private static func compile(_ expression: Expression, source: String, variables: [String: JSONValue]) throws(ExpressionSyntaxError) -> Program {
        let names = variables.keys.sorted()
        let compiler = Compiler(source: source, variableNames: names)
        let root: Node
        do {
            root = try compiler.compile(expression, compiler.rootScope)
        } catch {
            // No Program will break the cycles of the functions compiled so far (found by
            // `bin/fuzz`: `flatten(0.5), flattn(1)` leaked the prelude's recursive `flatten`).
            compiler.releaseFunctions()
            throw error
        }
        var environment = Environment.root
        for name in names { environment = Environment(parent: environment, binding: .value(variables[name]!)) }
        let analysis = InputPathAnalysis(variableNames: names)
        return Program(root: root, functions: compiler.functions, baseEnvironment: environment, usesContext: compiler.usesContext,
                       inputPaths: analysis.inputPaths(expression), conditionPaths: analysis.conditionPaths(expression))
    }

    private init(root: Node, functions: [FunctionNode], baseEnvironment: Environment, usesContext: Bool, inputPaths: JSONPathTree, conditionPaths: JSONPathTree) {
        self.root = root
        self.functions = functions
        self.baseEnvironment = baseEnvironment
        self.usesContext = usesContext
        self.inputPaths = inputPaths
        self.conditionPaths = conditionPaths
        self.nullContextEnvironment = Environment(parent: Environment(parent: baseEnvironment, binding: .value(.null)), binding: .value(.null))
    }

    private let nullContextEnvironment: Environment
    /// The compiled functions, whose bodies are cleared at the end (found by `bin/fuzz`: a
    /// recursive function such as `walk` kept itself alive, so every compiled program that
    /// used one leaked its nodes).
    let functions: [FunctionNode]

    deinit {
        for function in functions { function.body = EmptyNode() }
    }

    private func environment(_ context: EvaluationContext) -> Environment {
        guard usesContext else { return nullContextEnvironment }
        let fileName: JSONValue = context.fileName.map(JSONValue.string) ?? .null
        let lineNumber: JSONValue = context.lineNumber.map { .number($0) } ?? .null
        return Environment(parent: Environment(parent: baseEnvironment, binding: .value(fileName)), binding: .value(lineNumber))
    }

    /// Runs the program on one input, calling `emit` for each output in order.
    ///
    /// Throws ``EvaluationError`` for an error in the program (jq's message), or rethrows `emit`'s error.
    package func evaluate(_ input: JSONValue, context: EvaluationContext, emit: (JSONValue) throws -> Void) throws {
        let depthBound = ValueDepth.begin()
        defer { ValueDepth.end(depthBound) }
        do {
            if root.isSingle { return try emit(try root.single(input, environment(context))) }
            try root.run(input, environment(context), emit)
        } catch let error as PassThroughError {
            throw error.inner
        } catch is BreakSignal {
            throw EvaluationError("break")
        }
    }

    /// The program's output when it always has exactly one (`.id`, `.store.city`, `.id % 10`:
    /// most keys), computed without an output callback; nil for any other program, which the
    /// caller then runs with ``evaluate(_:context:emit:)``.
    func singleValue(_ input: JSONValue, context: EvaluationContext) throws -> JSONValue? {
        guard root.isSingle else { return nil }
        let depthBound = ValueDepth.begin()
        defer { ValueDepth.end(depthBound) }
        do {
            return try root.single(input, environment(context))
        } catch let error as PassThroughError {
            throw error.inner
        } catch is BreakSignal {
            throw EvaluationError("break")
        }
    }

    /// The first output of the program, nil when it has none; the rest is not computed.
    package func firstOutput(_ input: JSONValue, context: EvaluationContext) throws -> JSONValue? {
        if root.isSingle { return try singleValue(input, context: context) }
        var first: JSONValue? = nil
        do {
            try evaluate(input, context: context) { output in
                first = output
                throw StopSignal()
            }
        } catch is StopSignal {
        }
        return first
    }

    /// True when the program yields at least one truthy output (stops at the first one).
    package func isSatisfied(by input: JSONValue, context: EvaluationContext) throws -> Bool {
        if root.isSingle {
            let depthBound = ValueDepth.begin()
            defer { ValueDepth.end(depthBound) }
            return try root.single(input, environment(context)).isTruthy
        }
        var satisfied = false
        do {
            try evaluate(input, context: context) { output in
                if output.isTruthy {
                    satisfied = true
                    throw StopSignal()
                }
            }
        } catch is StopSignal {
        }
        return satisfied
    }

    /// All outputs of the program on one input (a convenience for tests and small tools).
    package func outputs(_ input: JSONValue, context: EvaluationContext = EvaluationContext()) throws -> [JSONValue] {
        var results: [JSONValue] = []
        try evaluate(input, context: context) { results.append($0) }
        return results
    }
}
