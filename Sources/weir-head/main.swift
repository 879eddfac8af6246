import WeirCore
import WeirExpression

let linesRange = 0...1_000_000_000_000

let spec = StageSpec(
    name: "head",
    summary: "write the first N records",
    description: """
        Writes the first N records (default 10) of its input, like head -n, validated and \
        compacted as by weir-cat; a bad record among them follows --errors and does not count \
        toward N. Several FILEs are read as one stream, without headers.

        weir-head stops reading as soon as it has N records and exits at once, so the stages \
        before it stop too (each sees its output closed): weir-seq --forever | weir-map .n | \
        weir-head -n 5 ends at once, and so does a head waiting on a slow input. With -n 0 it \
        writes nothing and reads nothing.

        With --by EXPR, writes the first N records of each value of the jq expression EXPR (a \
        key such as .store.city), in input order; this reads the whole input and keeps one count \
        per distinct key. Keys compare as jq's == does. A record on which EXPR fails, or yields \
        no value or several, is a bad record.
        """,
    options: [
        .value("lines", short: "n", "N", default: "10", help: "How many records to write (per key with --by), \(ParsedOptions.rangeText(linesRange))."),
        .value("by", "EXPR", help: "Write the first N records of each value of the jq expression EXPR (reads all the input)."),
    ],
    examples: [
        StageExample(
            "The first two records",
            command: "weir-head -n 2",
            input: "{\"id\":1}\n{ \"id\": 2 }\n{\"id\":3}\n",
            output: "{\"id\":1}\n{\"id\":2}\n"),
        StageExample(
            "The first record of each city",
            command: "weir-head -n 1 --by .city",
            input: "{\"city\":\"Lyon\",\"id\":1}\n{\"city\":\"Nice\",\"id\":2}\n{\"city\":\"Lyon\",\"id\":3}\n{\"city\":\"Nice\",\"id\":4}\n",
            output: "{\"city\":\"Lyon\",\"id\":1}\n{\"city\":\"Nice\",\"id\":2}\n"),
        StageExample(
            "Stop an endless generator",
            command: "weir-seq --forever | weir-head -n 2",
            input: "",
            output: "{\"n\":1}\n{\"n\":2}\n"),
    ]
)

let invocation = StageInvocation(spec)
let count = invocation.integer("lines", default: 10, range: linesRange)
let key = ExpressionOptions.compileOption("by", invocation)

/// Writes records until it has N (then satisfied: the run stops), or N per key.
struct Head: RecordStep {
    let count: Int
    var taken = 0
    /// With --by: the per-key counts.
    var perKey: FirstRecordsByKey?

    mutating func begin(output: inout StepOutput) throws(IOError) {
        if count == 0 { output.satisfy() }
    }

    mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        guard perKey != nil else {
            try output.emit(record)
            taken += 1
            if taken >= count { output.satisfy() }
            return
        }
        let (key, record) = RecordStepSink<Head>.splitKey(record)
        if perKey!.admits(key) { try output.emit(record) } else { output.drop() }
    }
}

let head = Head(count: count, perKey: key == nil ? nil : FirstRecordsByKey(capacity: count))
await invocation.run(sink: RecordStepSink(head)) { KeyedRecordTransform(key: key) }
