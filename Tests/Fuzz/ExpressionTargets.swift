import WeirCore
import WeirExpression

/// The expression language: lexer, parser and compiler, and the evaluator.
enum ExpressionFuzzTargets {
    /// Any text compiles or is an ``ExpressionSyntaxError`` (the typed throw rules out any
    /// other error) with a column inside the source and a message; never a trap. The same
    /// for string templates.
    static func parse(_ data: UnsafeRawBufferPointer) {
        let source = String(decoding: data, as: UTF8.self)
        let length = source.unicodeScalars.count  // columns count code points
        do throws(ExpressionSyntaxError) {
            let program = try Program.compile(source)
            // A program that compiles has a source whose analysis is complete.
            _ = program.inputPaths
        } catch {
            checkSyntaxError(error, source: source, length: length)
        }
        do throws(ExpressionSyntaxError) {
            _ = try Program.compileTemplate(source)
        } catch {
            checkSyntaxError(error, source: source, length: length)
        }
    }

    private static func checkSyntaxError(_ error: ExpressionSyntaxError, source: String, length: Int) {
        FuzzCheck.require(!error.message.isEmpty, "an empty syntax error message for \(FuzzCheck.show(source.utf8))")
        FuzzCheck.require(error.column >= 0 && error.column <= length + 1,
                          "syntax error column \(error.column) outside the \(length) code points of \(FuzzCheck.show(source.utf8)): \(error.message)")
    }

    /// The most outputs looked at per input: enough for every property, and it keeps an
    /// endless generator (`repeat(1)`) from looking like a hang.
    private static let maximumOutputs = 200

    /// `PROGRAM NUL INPUT`: compile the program and run it on the input (null when the input
    /// is not JSON). Every output is valid JSON that parses back to itself; errors are thrown,
    /// never traps; the first output and `isSatisfied` agree with the full run; and running
    /// on the input parsed lazily (only ``Program/inputPaths``) gives the same outputs.
    static func evaluate(_ data: UnsafeRawBufferPointer) {
        let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let source = String(decoding: parts[0], as: UTF8.self)
        let inputBytes = parts.count > 1 ? Array(parts[1]) : Array("null".utf8)
        guard let program = try? Program.compile(source) else { return }
        let input = (try? JSONParser.parse(inputBytes)) ?? .null
        let full = run(program, on: input)
        for output in full.outputs {
            var text: [UInt8] = []
            // An output nested deeper than the reader accepts is a record error in a stage.
            guard JSONWriter.write(output, maxDepth: JSONParser.defaultMaxDepth, into: &text) else { continue }
            guard let reparsed = try? JSONParser.parse(text) else {
                FuzzCheck.fail("\(FuzzCheck.show(source.utf8)) output invalid JSON \(FuzzCheck.show(text)) for input \(FuzzCheck.show(inputBytes))")
            }
            var again: [UInt8] = []
            JSONWriter.write(reparsed, into: &again)
            FuzzCheck.require(again == text, "output \(FuzzCheck.show(text)) of \(FuzzCheck.show(source.utf8)) does not parse back to itself")
        }
        // The first output, computed alone, is the full run's first (or its error).
        if let first = try? program.firstOutput(input, context: EvaluationContext()) {
            FuzzCheck.require(full.outputs.first.map(JSONWriter.string) == JSONWriter.string(first),
                              "firstOutput \(JSONWriter.string(first)) vs \(full.outputs.first.map(JSONWriter.string) ?? "none") for \(FuzzCheck.show(source.utf8))")
        } else if full.error == nil, !full.truncated {
            let first = full.outputs.first.map(JSONWriter.string)
            FuzzCheck.require(first == nil, "firstOutput failed or found nothing, the full run output \(first ?? "") for \(FuzzCheck.show(source.utf8))")
        }
        // Lazy parsing: only what the program can read of `.` is built.
        if let lazyInput = try? JSONParser.parse(inputBytes, keeping: program.inputPaths) {
            let lazy = run(program, on: lazyInput)
            FuzzCheck.require(lazy.outputs.map(JSONWriter.string) == full.outputs.map(JSONWriter.string) && (lazy.error == nil) == (full.error == nil),
                              "\(FuzzCheck.show(source.utf8)) on \(FuzzCheck.show(inputBytes)) parsed for \(program.inputPaths): \(lazy) vs \(full)")
        }
        if let conditionInput = try? JSONParser.parse(inputBytes, keeping: program.conditionPaths),
           let satisfied = try? program.isSatisfied(by: conditionInput, context: EvaluationContext()),
           full.error == nil, !full.truncated {
            FuzzCheck.require(satisfied == full.outputs.contains(where: \.isTruthy),
                              "isSatisfied \(satisfied) on \(FuzzCheck.show(inputBytes)) parsed for \(program.conditionPaths) disagrees with the outputs of \(FuzzCheck.show(source.utf8))")
        }
    }

    /// What one run produced: the outputs up to the first error (or ``maximumOutputs``).
    private struct Run: CustomStringConvertible {
        var outputs: [JSONValue] = []
        var error: String?
        var truncated = false
        var description: String { "outputs \(outputs.map(JSONWriter.string)), error \(error ?? "none")" }
    }

    private struct Enough: Error {}

    private static func run(_ program: Program, on input: JSONValue) -> Run {
        var result = Run()
        do {
            try program.evaluate(input, context: EvaluationContext()) { output in
                result.outputs.append(output)
                if result.outputs.count >= maximumOutputs { throw Enough() }
            }
        } catch is Enough {
            result.truncated = true
        } catch let error as EvaluationError {
            result.error = error.message
        } catch {
            result.error = "\(error)"
        }
        return result
    }
}
