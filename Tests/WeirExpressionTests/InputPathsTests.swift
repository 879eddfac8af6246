import Testing
import WeirCore
import WeirTestSupport
@testable import WeirExpression

/// `inputPaths` / `conditionPaths`: exact trees for typical programs, and the property that
/// evaluating on the projected input gives the same answer as on the whole input.
@Suite struct InputPathsTests {
    private func tree(_ paths: [[String]]) -> JSONPathTree {
        var tree = JSONPathTree.none
        for path in paths { tree.insert(path) }
        return tree
    }

    @Test(arguments: [
        (".stock > 10", [["stock"]]),
        ("{id, name, city: .store.city}", [["id"], ["name"], ["store", "city"]]),
        (".a | keys", [["a"]]),
        (".a.b, .c", [["a", "b"], ["c"]]),
        ("select(.x == 1) | .y", [["x"], ["y"]]),
        (".a as $v | $v.b", [["a", "b"]]),
        ("\"\\(.first) \\(.last)\"", [["first"], ["last"]]),
        ("if .a then .b else .c end", [["b"], ["c"]]),
        ("[.tags[] | ascii_downcase]", [["tags"]]),
        (".a // .b", [["a"], ["b"]]),
        ("{t: now, $__loc__}", []),
        (".items | length", [["items"]]),
        (".name | test(\"x\")", [["name"]]),
        ("try .a.b catch \"none\"", [["a", "b"]]),
        ("{(.k): .v}", [["k"], ["v"]]),
    ])
    func precise(source: String, paths: [[String]]) throws {
        var expected = tree(paths)
        if source.hasPrefix("if .a") { expected.children["a"] = JSONPathTree.none }
        #expect(try Program.compile(source).inputPaths == expected, "\(source)")
    }

    @Test(arguments: [
        "keys", ".[]", "..", "tojson", "length", ".", "del(.a)", ".a = 1", ".a |= . + 1", "to_entries",
        "def f: .a; f", "reduce .[] as $x (0; . + $x)", "[paths]", "getpath([\"a\"])", "map(.a)", "with_entries(.)",
        "{\"\\(.k)\"}", "tostream", ". as [$a] | $a", "first(.a)", "error", "path(.a)", ".[\"a\", \"b\"]",
    ])
    func whole(source: String) throws {
        let paths = try Program.compile(source).inputPaths
        #expect(paths.isWhole, "\(source)")
    }

    /// Alternatives in a pipe double the paths at each step; past a limit the analysis keeps
    /// them whole instead of following them (found by `bin/fuzz expression-parse`: a timeout).
    @Test func pathsStayFewThroughChainsOfAlternatives() throws {
        let chain = Array(repeating: "(.a // .b)", count: 40).joined(separator: " | ")
        let program = try Program.compile(chain)
        #expect(!program.inputPaths.isWhole)
        #expect(program.inputPaths.children.keys.sorted() == ["a", "b"])
        #expect(try program.outputs(.null) == [.null])
        // Duplicates are merged: `. // .` is one path, however long the chain.
        #expect(try Program.compile(Array(repeating: ". // .", count: 40).joined(separator: " | ") + " | .x").inputPaths == tree([["x"]]))
    }

    @Test func conditionsNeedOnlyTruthiness() throws {
        let program = try Program.compile(".active and .store.country == \"FR\"")
        var expected = JSONPathTree.none
        expected.children["active"] = JSONPathTree.none
        expected.insert(["store", "country"])
        #expect(program.conditionPaths == expected)
        #expect(try Program.compile("select(.x > 1)").conditionPaths == tree([["x"]]))
        #expect(try Program.compile("select(.x > 1)").inputPaths == .whole)
        var selected = tree([["b"]])
        selected.children["a"] = JSONPathTree.none
        #expect(try Program.compile("select(.a) | .b").inputPaths == selected)
    }

    /// Outputs, or the error message, of a program on one input.
    private func answer(_ program: Program, _ input: JSONValue) -> String {
        var outputs: [String] = []
        do {
            try program.evaluate(input, context: EvaluationContext()) { value in
                outputs.append(JSONWriter.string(value))
                if outputs.count > 1000 { throw StopSignal() }
            }
        } catch is StopSignal {
        } catch {
            outputs.append("error: \(error)")
        }
        return outputs.joined(separator: "\n")
    }

    @Test func projectionNeverChangesTheAnswer() throws {
        var files = TestPaths.testFiles(in: TestPaths.caseDirectory)
        if TestData.has("jq") {  // jq's own files too, when the suite is there
            files.append(TestPaths.jqTestDirectory + "/jq.test")
            files.append(TestPaths.jqTestDirectory + "/onig.test")
        }
        let deviations = KnownDeviations(text: readTextFile(TestPaths.caseDirectory + "/known-deviations.txt") ?? "")
        let extraInputs = [
            "{\"id\":1,\"name\":\"a\",\"stock\":3,\"store\":{\"city\":\"Lyon\",\"country\":\"FR\"},\"tags\":[\"x\",\"y\"],\"a\":{\"b\":1}}",
            "{\"a\":\"text\",\"b\":[1,2],\"c\":null,\"d\":{\"e\":{\"f\":false}}}",
        ].map { try! JSONParser.parse($0) }
        var checked = 0, narrowed = 0
        for file in files {
            for testCase in JQTestFile.parse(readTextFile(file) ?? "", file: file) where !testCase.mustFail {
                if deviations.skipped[KnownDeviations.key(testCase)] != nil { continue }
                guard let program = try? Program.compile(testCase.program),
                      let inputText = testCase.input, let input = try? JSONParser.parse(inputText) else { continue }
                if testCase.program.contains("input_line_number") || testCase.program.contains("now") || testCase.program.contains("$__loc__") { continue }
                for candidate in [input] + extraInputs {
                    let projected = program.inputPaths.project(candidate)
                    if !program.inputPaths.isWhole { narrowed += 1 }
                    let expected = answer(program, candidate)
                    let actual = answer(program, projected)
                    #expect(expected == actual, "\(testCase.file):\(testCase.line): \(testCase.program) on \(JSONWriter.string(candidate))")
                    let conditionInput = program.conditionPaths.project(candidate)
                    let satisfied = try? program.isSatisfied(by: candidate, context: EvaluationContext())
                    let projectedSatisfied = try? program.isSatisfied(by: conditionInput, context: EvaluationContext())
                    #expect(satisfied == projectedSatisfied, "condition: \(testCase.file):\(testCase.line): \(testCase.program)")
                    checked += 1
                }
            }
        }
        print("inputPaths property: \(checked) program/input pairs, \(narrowed) with a narrowed projection")
        #expect(checked > 500)
    }
}
