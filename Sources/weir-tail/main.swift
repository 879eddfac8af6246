import WeirCore
import WeirExpression

let linesRange = 0...1_000_000_000_000

let spec = StageSpec(
    name: "tail",
    summary: "write the last N records",
    description: """
        Writes the last N records (default 10) of its input, like tail -n, validated and \
        compacted as by weir-cat; a bad record follows --errors and does not count toward N. \
        Nothing is written before the input ends. Several FILEs are read as one stream. With \
        -n 0 it writes nothing and reads nothing.

        With --by EXPR, writes the last N records of each value of the jq expression EXPR (a \
        key such as .store.city), in input order. Keys compare as jq's == does. A record on \
        which EXPR fails, or yields no value or several, is a bad record.

        Memory: the last N records only (a ring buffer), whatever the length of the input; with \
        --by, N records for each distinct key, plus the keys.
        """,
    options: [
        .value("lines", short: "n", "N", default: "10", help: "How many records to write (per key with --by), \(ParsedOptions.rangeText(linesRange))."),
        .value("by", "EXPR", help: "Write the last N records of each value of the jq expression EXPR."),
    ],
    examples: [
        StageExample(
            "The last two records",
            command: "weir-tail -n 2",
            input: "{\"id\":1}\n{\"id\":2}\n{ \"id\": 3 }\n",
            output: "{\"id\":2}\n{\"id\":3}\n"),
        StageExample(
            "The last record of each city, in input order",
            command: "weir-tail -n 1 --by .city",
            input: "{\"city\":\"Lyon\",\"id\":1}\n{\"city\":\"Nice\",\"id\":2}\n{\"city\":\"Lyon\",\"id\":3}\n{\"city\":\"Paris\",\"id\":4}\n",
            output: "{\"city\":\"Nice\",\"id\":2}\n{\"city\":\"Lyon\",\"id\":3}\n{\"city\":\"Paris\",\"id\":4}\n"),
    ]
)

let invocation = StageInvocation(spec)
let count = invocation.integer("lines", default: 10, range: linesRange)
let key = ExpressionOptions.compileOption("by", invocation)

/// Keeps the last N records (or N per key) and writes them at the end of input.
struct Tail: RecordStep {
    var last: LastRecords
    /// With --by: the last N records of each key.
    var lastByKey: LastRecordsByKey?

    mutating func begin(output: inout StepOutput) throws(IOError) {
        if last.capacity == 0 { output.satisfy() }
    }

    mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        let pushedOut: Bool
        if lastByKey != nil {
            let (key, record) = RecordStepSink<Tail>.splitKey(record)
            pushedOut = lastByKey!.add(record, key: key)
        } else {
            pushedOut = last.add(record)
        }
        if pushedOut { output.drop() }
    }

    mutating func finish(output: inout StepOutput) throws(IOError) {
        for record in lastByKey?.records ?? last.records { try output.emit(record) }
    }
}

let tail = Tail(last: LastRecords(capacity: count), lastByKey: key == nil ? nil : LastRecordsByKey(capacity: count))
await invocation.run(sink: RecordStepSink(tail)) { KeyedRecordTransform(key: key) }
