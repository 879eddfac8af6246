import Testing
import WeirCore
@testable import WeirExpression

/// `Program.compileTemplate`: a path template read as the inside of a jq string literal.
@Suite struct TemplateTests {
    private func render(_ template: String, _ input: String) throws -> [String] {
        let program = try Program.compileTemplate(template).program
        let value = try JSONParser.parse(Array(input.utf8))
        return try program.outputs(value).map { output in
            guard case .string(let text) = output else { return "(not a string)" }
            return text
        }
    }

    @Test func interpolationsAreFilledFromTheRecord() throws {
        let record = #"{"retailer":"acme","date":"2024-05-01","n":3,"x":null}"#
        #expect(try render(#"out/\(.retailer)/\(.date).ndjson"#, record) == ["out/acme/2024-05-01.ndjson"])
        #expect(try render(#"n-\(.n)-\(.x)"#, record) == ["n-3-null"])
        #expect(try render(#"\(.retailer + "-" + (.n | tostring))"#, record) == ["acme-3"])
        #expect(try render("plain.ndjson", record) == ["plain.ndjson"])
    }

    @Test func escapesAreJqsAndABareQuoteIsText() throws {
        #expect(try render(#"a\tb"#, "null") == ["a\tb"])
        #expect(try render(#"say "hi"/\(.)"#, "1") == ["say \"hi\"/1"])
        #expect(try render(#"q\"/\(.)"#, "1") == ["q\"/1"])
        #expect(try render(#"back\\(.)"#, "1") == [#"back\(.)"#])
    }

    @Test func theLiteralPrefixIsTheTextBeforeTheFirstInterpolation() throws {
        #expect(try Program.compileTemplate(#"out/\(.a)/\(.b).csv"#).literalPrefix == "out/")
        #expect(try Program.compileTemplate(#"\(.a).csv"#).literalPrefix == "")
        #expect(try Program.compileTemplate(#"a\/b\(.a)"#).literalPrefix == "a/b")
        #expect(try Program.compileTemplate(#"back\\(.a)"#).literalPrefix == #"back\(.a)"#)
        #expect(try Program.compileTemplate("fixed/name.ndjson").literalPrefix == "fixed/name.ndjson")
    }

    @Test func syntaxErrorsAreReported() {
        #expect(throws: ExpressionSyntaxError.self) { try Program.compileTemplate(#"out/\(.a"#) }
        #expect(throws: ExpressionSyntaxError.self) { try Program.compileTemplate(#"out/\(.a +)"#) }
        #expect(throws: ExpressionSyntaxError.self) { try Program.compileTemplate(#"bad\q"#) }
    }

    @Test func valueOrderIsJqs() throws {
        let values = ["null", "false", "true", "-1", "2", "10", "\"10\"", "\"a\"", "[]", "[1]", "{}"].map { try! JSONParser.parse(Array($0.utf8)) }
        for (index, value) in values.enumerated() {
            for (other, otherValue) in values.enumerated() {
                let order = ValueOrder.compare(value, otherValue)
                #expect((order < 0) == (index < other) && (order == 0) == (index == other))
            }
        }
    }
}
