import Testing
import WeirCore
@testable import WeirExpression

/// Syntax errors and unsupported constructs: the column (1-based, in code points) and the message.
@Suite struct SyntaxErrorTests {
    private func failure(_ source: String) -> ExpressionSyntaxError? {
        do {
            _ = try Program.compile(source)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (".a | )", 6, "unexpected ')'"),
        ("1 +", 4, "unexpected end of expression"),
        ("{a: 1", 6, "unexpected end of expression, expected '}'"),
        ("\"abc", 1, "unterminated string literal"),
        ("[1, 2", 6, "unexpected end of expression, expected ']'"),
        (".a | \"é\" | )", 12, "unexpected ')'"),
        ("if . then 1 end end", 17, "unexpected 'end'"),
        ("1 == 2 == 3", 8, "unexpected '=='"),
        (". as [$a, b] | $a", 11, "unexpected 'b', expected a pattern ('$name', '[…]' or '{…}')"),
        ("\"\\q\"", 2, "invalid escape '\\q' in string literal"),
        (".a ` .b", 4, "unexpected character '`'"),
        ("reduce .[] as $x (0)", 20, "unexpected ')', expected ';'"),
        ("{(1,2): 3, a b}", 14, "unexpected 'b', expected '}'"),
    ])
    func syntaxError(source: String, column: Int, message: String) {
        let error = failure(source)
        #expect(error?.column == column, "\(source)")
        #expect(error?.message == message, "\(source)")
    }

    @Test(arguments: [
        ("input", 1, "`input` is not supported"),
        (". | inputs", 5, "`inputs` is not supported"),
        ("halt_error", 1, "`halt_error` is not supported"),
        ("import \"a\" as b; .", 1, "modules (`import`) are not supported"),
        ("include \"a\"; .", 1, "modules (`include`) are not supported"),
        ("foo(1)", 1, "foo/1 is not defined"),
        ("[.[] | map]", 8, "map/0 is not defined"),
        ("$x + 1", 1, "$x is not defined"),
        ("label $out | break $other", 14, "$*label-other is not defined"),
        
        ("{(0): 1}", 1, "Cannot use number (0) as object key"),
        ("$__prog_args", 1, "`$__prog_args` is not supported"),
        ("match(\"a\"; \"l\") | .x", 0, ""),
    ])
    func unsupportedOrUndefined(source: String, column: Int, message: String) {
        let error = failure(source)
        if message.isEmpty {
            #expect(error == nil, "\(source) compiles (its error is at run time)")
            return
        }
        #expect(error?.column == column, "\(source)")
        #expect(error?.message == message, "\(source)")
    }

    @Test func rendersLikeJq() {
        #expect(ExpressionSyntaxError(column: 7, message: "unexpected ')'").description == "syntax error at column 7: unexpected ')'")
    }

    @Test func variablesFromTheCommandLineAreBound() throws {
        let program = try Program.compile("[$name, $count + 1]", variables: ["name": .string("x"), "count": .number(2)])
        #expect(try program.outputs(.null) == [.array([.string("x"), .number(3)])])
    }

    @Test func contextFeedsInputFilenameAndLineNumber() throws {
        let program = try Program.compile("[input_filename, input_line_number]")
        let context = EvaluationContext(fileName: "a.ndjson", lineNumber: 7)
        #expect(try program.outputs(.null, context: context) == [.array([.string("a.ndjson"), .number(7)])])
        #expect(try Program.compile("input_filename").outputs(.null) == [.null])
        #expect(throws: EvaluationError.self) { try program.outputs(.null) }  // jq: "Unknown input line number"
    }

    @Test func evaluationErrorsUseJqsWording() throws {
        let program = try Program.compile(".a + 1")
        #expect(throws: EvaluationError.self) { try program.outputs(.object(JSONObject([("a", .string("x"))]))) }
        do {
            _ = try program.outputs(.object(JSONObject([("a", .string("x"))])))
        } catch let error as EvaluationError {
            #expect(error.message == "string (\"x\") and number (1) cannot be added")
            #expect(error.value == nil)
        }
        do {
            _ = try Program.compile("error({a: 1})").outputs(.null)
        } catch let error as EvaluationError {
            #expect(error.value == .object(JSONObject([("a", .number(1))])))
            #expect(error.message == "{\"a\":1} (not a string)")
        }
    }

    @Test func isSatisfiedStopsAtTheFirstTruthyOutput() throws {
        let program = try Program.compile(".[] | if . == 2 then true else error(\"too far\") end")
        #expect(throws: EvaluationError.self) { try program.isSatisfied(by: .array([.number(1)]), context: EvaluationContext()) }
        #expect(try Program.compile("(false, true, error(\"x\"))").isSatisfied(by: .null, context: EvaluationContext()))
        #expect(try !Program.compile("empty").isSatisfied(by: .null, context: EvaluationContext()))
        #expect(try Program.compile(".stock > 0").isSatisfied(by: try JSONParser.parse("{\"stock\": 3}"), context: EvaluationContext()))
    }

    @Test func runawayRecursionIsAnErrorNotACrash() throws {
        let program = try Program.compile("def f: . + 1 | f; f")
        #expect(throws: EvaluationError.self) { try program.outputs(.number(0)) }
        // Loops that jq defines recursively run as loops here.
        #expect(try Program.compile("0 | until(. >= 1000000; . + 1)").outputs(.null) == [.number(1000000)])
        #expect(try Program.compile("[limit(3; repeat(1))]").outputs(.null) == [.array([.number(1), .number(1), .number(1)])])
    }

    @Test func downstreamErrorsAreNotCaughtByTry() throws {
        struct Consumer: Error {}
        let program = try Program.compile("try (1, 2) catch 99")
        var seen: [JSONValue] = []
        #expect(throws: Consumer.self) {
            try program.evaluate(.null, context: EvaluationContext()) { value in
                seen.append(value)
                throw Consumer()
            }
        }
        #expect(seen == [.number(1)])
    }
}
