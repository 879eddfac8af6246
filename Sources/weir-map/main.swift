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

        With -r, --join-output or --raw-output0 the output is text, not NDJSON, so weir-map is \
        then the end of a pipeline (the one place Weir writes something else): a string output \
        is written as its text, escapes decoded (\"caf\\u00e9\" as café, \"a\\nb\" as two lines), and \
        any other value as compact JSON, like jq -rc. -r ends each output with a line end; \
        --join-output writes nothing between outputs (jq's -j, spelled long here because -j is \
        --jobs in every Weir stage); --raw-output0 ends each with a NUL, for xargs -0, and a \
        string that holds a NUL is then a bad record, with jq's message. weir-filter has no -r: \
        it writes records; use weir-filter EXPR | weir-map -r .field.
        """,
    options: [
        .flag("raw-output", short: "r", help: "Write string outputs as their text, other values as compact JSON, one per line (jq -r). The output is text, not NDJSON."),
        .flag("join-output", help: "As --raw-output, with nothing after each output (jq -j)."),
        .flag("raw-output0", help: "As --raw-output, with a NUL after each output instead of a line end (jq --raw-output0, for xargs -0); a string holding a NUL is a bad record."),
    ] + ExpressionOptions.options,
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
        StageExample(
            "Strings as text for the shell (the end of a pipeline)",
            command: "weir-map -r '.name, .tags'",
            input: "{\"name\":\"Caf\\u00e9 \\\"Lyon\\\"\",\"tags\":[\"a\",\"b\"]}\n",
            output: "Café \"Lyon\"\n[\"a\",\"b\"]\n"),
    ]
)

var invocation = StageInvocation(spec)
let program = ExpressionOptions.compile(&invocation)
let options = invocation.options
let format: ProgramOutputs.OutputFormat =
    options.flag("raw-output0") ? .nulTerminated
    : options.flag("join-output") ? .joined
    : options.flag("raw-output") ? .raw
    : .json

await invocation.run { ProgramOutputs(program: program, format: format) }
