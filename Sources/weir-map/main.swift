import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "map",
    summary: "replace each record by the outputs of an expression",
    operands: "EXPR [FILE...]",
    description: """
        Runs the jq expression EXPR on each record and writes every output as one compact line, \
        like jq -c EXPR or Array.flatMap: an expression may yield one output per record (a \
        projection such as '{sku, city: .store.city}'), none (empty, or select(...)), or many \
        (.items[]).

        Values EXPR passes through unchanged keep their number literals (1.10, \
        12345678901234567890) and key order; computed numbers are printed as jq prints them. \
        Only the parts of a record that EXPR reads are decoded. An expression that fails on a \
        record (such as .price + "x") makes that record bad, with jq's message: see --errors. \
        A syntax error, or a jq feature Weir does not support, is a usage error (exit 2).
        """,
    options: ExpressionOptions.options,
    examples: [
        StageExample(
            "Project and rename fields",
            command: "weir-map '{sku, city: .store.city}'",
            input: "{\"sku\":\"A-1\",\"store\":{\"city\":\"Lyon\",\"zip\":\"69001\"},\"stock\":3}\n",
            output: "{\"sku\":\"A-1\",\"city\":\"Lyon\"}\n"),
        StageExample(
            "One record per array element",
            command: "weir-map '.items[] | {order: .id} + .' ",
            input: "{\"items\":[{\"id\":1},{\"id\":2}]}\n",
            output: "{\"order\":1,\"id\":1}\n{\"order\":2,\"id\":2}\n"),
        StageExample(
            "Compute with string interpolation and arithmetic",
            command: "weir-map '\"\\(.sku): \\(.price * .qty)\"'",
            input: "{\"sku\":\"A-1\",\"price\":1.25,\"qty\":4}\n",
            output: "\"A-1: 5\"\n"),
    ]
)

var invocation = StageInvocation(spec)
let program = ExpressionOptions.compile(&invocation)

await invocation.run { ProgramOutputs(program: program) }
