import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "explode",
    summary: "write one record per element of an array",
    operands: "EXPR [FILE...]",
    description: """
        Writes one record per element of the array at the path EXPR (.items, .order.lines, \
        .["a b"], .rows[0]), like jq's '.items[] as $x | .items = $x' or SQL's UNNEST: a copy \
        of the record in which the array is replaced by one element. With --as FIELD the \
        element goes to FIELD (a path such as .item, or a bare name) and the array is removed; \
        with --index-as FIELD the element's position (0, 1, ...) is set there too.

        An object at EXPR gives one record per entry, the entry being {"key": K, "value": V} \
        as jq's to_entries writes it, in the object's key order (--index-as then records the \
        key). A missing or null value, an empty array and an empty object give no record, \
        unless --keep-empty, which writes the record once with null at FIELD (and at the \
        index). Any other value at EXPR (a string, a number) makes the record bad (see \
        --errors).

        The rest of the record keeps its key order and number literals (1.10, \
        12345678901234567890); a new field goes last. EXPR must be a path: anything else (.items[], \
        .a | length) is a usage error. Records are exploded on all cores, in input order.
        """,
    options: [
        .value("as", "FIELD", help: "Put each element at FIELD instead of the array's place (the array is removed)."),
        .value("index-as", "FIELD", help: "Also set FIELD to the element's position (0-based; an object's key)."),
        .flag("keep-empty", help: "Write a record whose array is empty or missing once, with null at FIELD."),
    ],
    examples: [
        StageExample(
            "One record per order line",
            command: "weir-explode .lines",
            input: "{\"order\":7,\"lines\":[{\"sku\":\"a\"},{\"sku\":\"b\"}],\"total\":1.10}\n",
            output: "{\"order\":7,\"lines\":{\"sku\":\"a\"},\"total\":1.10}\n{\"order\":7,\"lines\":{\"sku\":\"b\"},\"total\":1.10}\n"),
        StageExample(
            "Each tag under its own name, with its position; empty lists kept",
            command: "weir-explode .tags --as tag --index-as n --keep-empty",
            input: "{\"id\":1,\"tags\":[\"new\",\"promo\"]}\n{\"id\":2,\"tags\":[]}\n",
            output: "{\"id\":1,\"tag\":\"new\",\"n\":0}\n{\"id\":1,\"tag\":\"promo\",\"n\":1}\n{\"id\":2,\"tag\":null,\"n\":null}\n"),
        StageExample(
            "The entries of an object",
            command: "weir-explode .stock",
            input: "{\"sku\":\"a\",\"stock\":{\"Lyon\":3,\"Nice\":0}}\n",
            output: "{\"sku\":\"a\",\"stock\":{\"key\":\"Lyon\",\"value\":3}}\n{\"sku\":\"a\",\"stock\":{\"key\":\"Nice\",\"value\":0}}\n"),
    ]
)

var arguments = StageInvocation(spec)
let source = arguments.takeOperand("EXPR (the path of the array)")
let invocation = arguments

/// A path option or operand: a path expression, or a bare field name (`item` for `.item`).
@MainActor func path(_ text: String, _ what: String) -> [JSONValue] {
    if let path = StaticPath.parse(text) { return path }
    if let path = StaticPath.parse("." + text), !text.hasPrefix(".") { return path }
    invocation.usageError("\(what) must be a path such as .items or .order.lines, not '\(text)'")
}

let sourcePath = path(source, "EXPR")
let targetPath = invocation.options.value("as").map { path($0, "--as") }
let indexPath = invocation.options.value("index-as").map { path($0, "--index-as") }
if let indexPath, indexPath == (targetPath ?? sourcePath) {
    invocation.usageError("--index-as must differ from where the element goes")
}
let exploder = RecordExploder(source: sourcePath, target: targetPath, index: indexPath, keepEmpty: invocation.options.flag("keep-empty"))

await invocation.run { exploder }
