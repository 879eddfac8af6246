import Testing
import WeirCore
@testable import WeirExpression

/// Programs and values nested without bound are errors, never a stack overflow (found by
/// `bin/fuzz`): the parser bounds how deep a program nests and how deep its syntax tree is,
/// and ``ValueDepth`` bounds how deep a value an expression builds.
@Suite struct NestingLimitTests {
    private static let depthMessage = "a value built by the expression would nest more than \(ValueDepth.maximum) levels deep"

    private func syntaxError(_ source: String) -> String? {
        do {
            _ = try Program.compile(source)
            return nil
        } catch {
            return error.message
        }
    }

    private func run(_ source: String, _ input: JSONValue = .null) throws -> [String] {
        try Program.compile(source).outputs(input).map(JSONWriter.string)
    }

    private func repeated(_ text: String, _ count: Int, separator: String = "") -> String {
        Array(repeating: text, count: count).joined(separator: separator)
    }

    @Test func programsNestAtMost256Levels() throws {
        let limit = Parser.maximumNesting
        let message = "the program nests more than \(limit) levels deep"
        #expect(try run(repeated("[", limit - 1) + "1" + repeated("]", limit - 1)).first?.hasPrefix("[[[") == true)
        for source in [
            repeated("[", limit + 1) + "1" + repeated("]", limit + 1),
            repeated("(", 3000) + "1" + repeated(")", 3000),
            repeated("try ", 3000) + "1",
            repeated("-", 3000) + "1",
            repeated("\"\\(", 3000) + "1" + repeated(")\"", 3000),          // string interpolations
            ". as " + repeated("[", 3000) + "$a" + repeated("]", 3000) + " | $a",  // patterns
            repeated("1 as $x | ", 3000) + "$x",                           // bindings
            repeated("def f: ", 3000) + "1" + repeated(";", 3000) + " 1",   // definitions in definitions
        ] {
            #expect(syntaxError(source) == message, "\(source.prefix(20))…")
        }
    }

    @Test func aProgramsTreeIsAtMost2000LevelsDeep() throws {
        let limit = Parser.maximumTreeDepth
        let message = "the program is more than \(limit) levels deep (each operator of a chain such as `1, 2, 3` or `.a.b.c` is a level); split it with functions or variables"
        for source in [
            repeated("1", 30_000, separator: ","),
            repeated(".", 30_000, separator: "|"),
            repeated(".a", 30_000),
            "1" + repeated("+1", 30_000),
            repeated("def f: 1; ", 3000) + "1",
        ] {
            #expect(syntaxError(source) == message, "\(source.prefix(20))…")
        }
        // Long chains within the limit compile and run (the compiler's stack guard is only a backstop).
        #expect(try run("[" + repeated("1", 300, separator: ",") + "] | length") == ["300"])
        #expect(try run(repeated(".", 300, separator: " | ") + " | 7") == ["7"])
        #expect(try run(repeated("1 as $x | ", 200) + "$x") == ["1"])
    }

    @Test(arguments: [
        "reduce range(6000) as $_ (null; [.])",
        "reduce range(100000) as $_ (null; [.]) | length",
        "reduce range(6000) as $_ ({}; {a: .})",
        "reduce range(6000) as $_ ({}; {a: ., b: (1, 2)}) | 1",       // the generator path of {…}
        "reduce range(6000) as $_ ([]; [.[0:2][], .])",                // a collected array
        "setpath([range(6000) | \"a\"]; 1)",
        "reduce range(6000) as $_ (null; .a = .)",
        "reduce range(6000) as $_ (null; {a: .} | to_entries)",
        "reduce range(6000) as $_ ([1]; group_by(.))",
        "[limit(6000; repeat(1))] | reduce .[] as $_ (null; {a: .}) | 1",
        "last(foreach range(6000) as $_ (null; [.]))",
    ])
    func valuesNestAtMostTheMaximum(source: String) throws {
        let error = #expect(throws: EvaluationError.self) { try run(source) }
        #expect(error?.message == Self.depthMessage)
    }

    @Test func valuesUpToTheMaximumAreBuilt() throws {
        let levels = ValueDepth.maximum
        // Exactly the maximum: null inside `levels` arrays.
        let deepest = "reduce range(\(levels)) as $_ (null; [.])"
        #expect(try run(deepest + " | getpath([range(\(levels - 1)) | 0]) | length") == ["1"])
        let error = #expect(throws: EvaluationError.self) { try run("reduce range(\(levels + 1)) as $_ (null; [.])") }
        #expect(error?.message == Self.depthMessage)
        // Many constructions, none deep: past the budget, each one is measured, and passes.
        #expect(try run("[range(20000) | [.]] | length") == ["20000"])
        #expect(try run("reduce range(6000) as $i ({}; .[$i % 7 | tostring] += [{v: $i}]) | map_values(length) | add") == ["6000"])
        #expect(try run("[range(20000) | {a: [.]}] | map(.a[0]) | add") == ["199990000"])
        // Each evaluation starts afresh: the budget of one record is not spent by the next.
        let program = try Program.compile("reduce range(3000) as $_ (null; [.]) | 1")
        for _ in 0..<5 { #expect(try program.outputs(.null) == [.number(1)]) }
    }

    @Test func sharedPartsAreMeasuredOnce() {
        // Each level holds the level below twice: 2^60 paths, 60 distinct arrays.
        var value = JSONValue.null
        for _ in 0..<60 { value = .array([value, value]) }
        #expect(ValueDepth.Measured().depth(of: value, within: 60) == 60)
        #expect(ValueDepth.Measured().depth(of: value, within: 59) == nil)
    }

    @Test func depthIsMeasuredWithoutRecursion() {
        var value = JSONValue.null
        for _ in 0..<100 { value = .array([.number(1), .object(JSONObject([("a", value)]))]) }
        #expect(ValueDepth.Measured().depth(of: value, within: 200) == 200)
        #expect(ValueDepth.Measured().depth(of: value, within: 199) == nil)
        #expect(ValueDepth.Measured().depth(of: .string("x"), within: 0) == 0)
        #expect(ValueDepth.Measured().depth(of: .array([]), within: 0) == nil)
    }
}
