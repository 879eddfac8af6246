import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "filter",
    summary: "keep the records for which an expression is true",
    operands: "EXPR [FILE...]",
    description: """
        Writes each record for which the jq expression EXPR yields a true value (anything but \
        false and null), like jq -c 'select(EXPR)' or Array.filter. Records that pass are written \
        as their original bytes, so formatting, key order and number literals come through untouched.

        EXPR is jq: '.stock > 0 and .store.country == "FR"', '.tags | index("promo")', \
        'test("^SKU-0"; "") | not'... Only the parts of a record that EXPR reads are decoded (the \
        rest is validated and skipped), which is what makes weir-filter fast.

        One deliberate difference from jq: when EXPR yields several outputs, the record is \
        written once if any of them is true (jq's select would write it once per true output). \
        An expression that fails on a record (such as .price + "x") makes that record bad: see \
        --errors. A syntax error, or a jq feature Weir does not support, is a usage error (exit 2).
        """,
    options: [
        .flag("invert", short: "v", help: "Keep the records for which EXPR is false or null instead (like grep -v)."),
    ] + ExpressionOptions.options,
    examples: [
        StageExample(
            "Keep what is in stock",
            command: "weir-filter '.stock > 0'",
            input: "{\"sku\":\"A-1\",\"stock\":3}\n{\"sku\":\"B-2\",\"stock\":0}\n{\"sku\":\"C-3\", \"stock\":12, \"price\":1.10}\n",
            output: "{\"sku\":\"A-1\",\"stock\":3}\n{\"sku\":\"C-3\", \"stock\":12, \"price\":1.10}\n"),
        StageExample(
            "Combine conditions on nested fields",
            command: "weir-filter '.store.country == \"FR\" and (.tags | index(\"promo\"))'",
            input: "{\"store\":{\"country\":\"FR\"},\"tags\":[\"promo\"]}\n{\"store\":{\"country\":\"DE\"},\"tags\":[\"promo\"]}\n",
            output: "{\"store\":{\"country\":\"FR\"},\"tags\":[\"promo\"]}\n"),
        StageExample(
            "Use a variable, and invert",
            command: "weir-filter -v --argjson min 10 '.stock >= $min'",
            input: "{\"stock\":3}\n{\"stock\":30}\n",
            output: "{\"stock\":3}\n"),
    ]
)

var invocation = StageInvocation(spec)
let program = ExpressionOptions.compile(&invocation)
let invert = invocation.options.flag("invert")

/// Decodes the parts of a record the condition reads, evaluates it, and copies the record's
/// own bytes to the output when it holds.
struct Filter: RecordTransform {
    let program: Program
    let invert: Bool

    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record, keeping: program.conditionPaths)
        let satisfied: Bool
        do {
            satisfied = try program.isSatisfied(by: value, context: evaluationContext(position))
        } catch {
            throw recordError(error)
        }
        guard satisfied != invert else { return 0 }
        output.append(contentsOf: record)
        output.append(0x0A)
        return 1
    }
}

await invocation.run { Filter(program: program, invert: invert) }
