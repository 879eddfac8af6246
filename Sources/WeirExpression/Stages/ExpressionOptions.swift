import WeirCore

/// The options of every stage that takes an expression, as jq spells them, and the one
/// place that turns them into a compiled ``Program``.
package enum ExpressionOptions {
    /// `--arg`, `--argjson`, `--slurpfile`, `--rawfile`: the variables, for a stage whose
    /// expression is an option's value (`--template EXPR`).
    package static let variableOptions: [OptionSpec] = [
        .value("arg", "NAME VALUE", repeatable: true, arity: 2, help: "Bind $NAME to the string VALUE in the expression."),
        .value("argjson", "NAME JSON", repeatable: true, arity: 2, help: "Bind $NAME to the JSON value JSON."),
        .value("slurpfile", "NAME FILE", repeatable: true, arity: 2, help: "Bind $NAME to an array of the JSON values in FILE."),
        .value("rawfile", "NAME FILE", repeatable: true, arity: 2, help: "Bind $NAME to the text of FILE as a string."),
    ]

    /// `--arg`, `--argjson`, `--slurpfile`, `--rawfile`, `-f`.
    package static let options: [OptionSpec] = variableOptions + [
        .value("from-file", short: "f", "FILE", help: "Read the expression from FILE instead of the first operand."),
    ]

    /// Takes the expression (from `-f FILE` or the first operand), binds the variables and
    /// compiles it; any problem is a usage error (exit 2), syntax errors with a caret.
    package static func compile(_ invocation: inout StageInvocation) -> Program {
        let source: String
        if let path = invocation.options.value("from-file") {
            source = String(decoding: readFile(path, invocation), as: UTF8.self)
        } else {
            source = invocation.takeOperand("EXPR (the expression)")
        }
        return compileSource(source, invocation)
    }

    /// Compiles the value of option `option` (`--by EXPR`), binding the variables of
    /// ``variableOptions`` when the stage declares them; a problem is a usage error naming
    /// the option.
    package static func compileOption(_ option: String, _ invocation: StageInvocation) -> Program? {
        guard let source = invocation.options.value(option) else { return nil }
        return compileSource(source, invocation, context: "--\(option): ")
    }

    /// Compiles `source`, one of the values of a repeatable option `option` (`--by` given
    /// several times), with the variables bound; a problem is a usage error naming the option.
    package static func compileExpression(_ source: String, option: String, _ invocation: StageInvocation) -> Program {
        compileSource(source, invocation, context: "--\(option): ")
    }

    /// Compiles the string template given to option `option` (`--to 'out/\(.k).ndjson'`, the
    /// inside of a jq string literal) with the variables bound, and returns it with its
    /// literal prefix; nil when the option is absent. A syntax error is a usage error.
    package static func compileTemplateOption(_ option: String, _ invocation: StageInvocation) -> (program: Program, literalPrefix: String)? {
        guard let source = invocation.options.value(option) else { return nil }
        return compileTemplate(source, invocation, context: "--\(option): ")
    }

    /// Compiles a string template (the inside of a jq string literal) with the variables
    /// bound; with `format` (`uri`) its interpolated values are formatted as by jq's
    /// `@uri "…"`. A syntax error is a usage error starting with `context`.
    package static func compileTemplate(_ source: String, _ invocation: StageInvocation, format: String? = nil, context: String) -> (program: Program, literalPrefix: String) {
        do throws(ExpressionSyntaxError) {
            return try Program.compileTemplate(source, format: format, variables: variables(invocation))
        } catch {
            invocation.usageError(context + syntaxMessage(error, source: source))
        }
    }

    /// Binds the variables and compiles `source`; a problem is a usage error.
    private static func compileSource(_ source: String, _ invocation: StageInvocation, context: String = "") -> Program {
        let variables = self.variables(invocation)
        do throws(ExpressionSyntaxError) {
            return try Program.compile(source, variables: variables)
        } catch {
            invocation.usageError(context + syntaxMessage(error, source: source))
        }
    }

    /// The `$name` bindings of `--arg`, `--argjson`, `--slurpfile` and `--rawfile`; a bad
    /// value is a usage error.
    private static func variables(_ invocation: StageInvocation) -> [String: JSONValue] {
        let options = invocation.options
        var variables: [String: JSONValue] = [:]
        for (name, value) in pairs(options.values("arg")) { variables[name] = .string(value) }
        for (name, text) in pairs(options.values("argjson")) {
            do throws(JSONError) { variables[name] = try JSONParser.parse(text) } catch {
                invocation.usageError("--argjson \(name): invalid JSON text: \(error.message)")
            }
        }
        for (name, path) in pairs(options.values("slurpfile")) {
            variables[name] = slurp(path, invocation)
        }
        for (name, path) in pairs(options.values("rawfile")) {
            variables[name] = .string(String(decoding: readFile(path, invocation), as: UTF8.self))
        }
        return variables
    }

    /// `error.message` with the program line and a caret under the column.
    static func syntaxMessage(_ error: ExpressionSyntaxError, source: String) -> String {
        var message = "\(error.message) (at column \(error.column) of the expression)"
        let scalars = Array(source.unicodeScalars)
        guard !scalars.contains("\n"), scalars.count <= 200 else { return message }
        let caret = String(repeating: " ", count: max(0, min(error.column - 1, scalars.count)))
        message += "\n  \(source)\n  \(caret)^"
        return message
    }

    private static func pairs(_ values: [String]) -> [(String, String)] {
        stride(from: 0, to: values.count - 1, by: 2).map { (values[$0], values[$0 + 1]) }
    }

    private static func readFile(_ path: String, _ invocation: StageInvocation) -> [UInt8] {
        do throws(IOError) { return try SystemIO.readWholeFile(path, decompressing: true) } catch { invocation.usageError(error.description) }
    }

    /// All JSON values in a file (any layout), as jq's `--slurpfile` gives them.
    private static func slurp(_ path: String, _ invocation: StageInvocation) -> JSONValue {
        let bytes = readFile(path, invocation)
        var splitter = JSONTextSplitter(splitTopLevelArrays: false)
        var values: [JSONValue] = []
        let failure: String? = bytes.withUnsafeBytes { buffer in
            let found = splitter.split(buffer, isEndOfInput: true)
            for record in found.records {
                do throws(JSONError) {
                    values.append(try JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[record.range])))
                } catch {
                    return error.message
                }
            }
            return found.failure?.error.message
        }
        if let failure { invocation.usageError("--slurpfile \(path): invalid JSON: \(failure)") }
        return .array(values)
    }
}

/// The evaluation context for a record: its file (`nil` for standard input) and line.
package func evaluationContext(_ position: RecordPosition) -> EvaluationContext {
    EvaluationContext(fileName: position.fileName == "-" ? nil : position.fileName, lineNumber: position.line)
}

/// A failed evaluation as a bad record, with jq's message.
package func recordError(_ error: any Error) -> RecordError {
    if let evaluation = error as? EvaluationError { return RecordError(evaluation.message) }
    return RecordError(String(describing: error))
}

extension Program {
    private struct FirstOutput: Error {}

    /// The first output of the program on `value` (nil when it yields nothing), for a key, a
    /// path or a URL; evaluation stops there. A failed evaluation is a bad record.
    package func firstOutput(of value: JSONValue, at position: RecordPosition) throws(RecordError) -> JSONValue? {
        var first: JSONValue? = nil
        do {
            try evaluate(value, context: evaluationContext(position)) { output in
                first = output
                throw FirstOutput()
            }
        } catch is FirstOutput {
        } catch {
            throw recordError(error)
        }
        return first
    }
}
