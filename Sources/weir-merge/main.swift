import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "merge",
    summary: "read several NDJSON inputs at once: records as they arrive, or merged by a sort key",
    description: """
        Reads every FILE at the same time — files, FIFOs, <(…) process substitutions — and \
        writes their records as one stream. Without --by, each record is written as soon as \
        its input delivers it, like cat(1) on inputs that all run at once: whole lines only, \
        never two records mixed, and a slow input never holds up a fast one (records from one \
        input keep their order; between inputs, the order is the order of arrival).

        With --by EXPR, every input must already be sorted by EXPR, and the result is sorted \
        too: a k-way merge like sort -m, the merge step of an external sort. The key of a \
        record is the first output of EXPR on it, compared in jq's order (null < false < true \
        < numbers < strings < arrays < objects, as sort_by does); -r for inputs sorted in \
        descending order. The merge is stable: on equal keys the earlier input on the command \
        line comes first, and each input keeps its own order, so merging sorted runs of one \
        file gives what a stable sort of the whole file gives. Inputs that are not sorted are \
        not detected: the result is then not sorted either. A record for which EXPR fails or \
        yields nothing is a bad record.

        Records are validated and compacted as weir-cat does. With --source FIELD, each record \
        (which must then be an object) gets FIELD set to the name of its input as given on \
        the command line (<stdin> for standard input). A bad record is reported with its \
        input's name and line (see --errors). Standard input (-, or no FILE) can be one of the \
        inputs, once.
        """,
    options: [
        .value("by", "EXPR", help: "Merge inputs that are each sorted by EXPR (its first output, in jq's order) into one sorted stream."),
        .flag("reverse", short: "r", help: "With --by, the inputs are sorted in descending order (and so is the result)."),
        .value("source", "FIELD", help: "Set FIELD of each record (records must be objects) to the name of its input as given."),
    ] + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "Merge two sorted inputs into one sorted stream",
            command: "weir-merge --by .t <(printf '{\"t\":1}\\n{\"t\":4}\\n') <(printf '{\"t\":2}\\n{\"t\":3}\\n')",
            input: "",
            output: "{\"t\":1}\n{\"t\":2}\n{\"t\":3}\n{\"t\":4}\n"),
        StageExample(
            "Equal keys keep the order of the inputs on the command line",
            command: "weir-merge --by .day <(printf '{\"day\":1,\"n\":\"a1\"}\\n{\"day\":2,\"n\":\"a2\"}\\n') <(printf '{\"day\":1,\"n\":\"b1\"}\\n')",
            input: "",
            output: "{\"day\":1,\"n\":\"a1\"}\n{\"day\":1,\"n\":\"b1\"}\n{\"day\":2,\"n\":\"a2\"}\n"),
        StageExample(
            "Say where each record came from",
            command: "weir-merge --source from",
            input: "{\"sku\":\"A-1\"}\n",
            output: "{\"sku\":\"A-1\",\"from\":\"<stdin>\"}\n"),
    ],
    input: .several
)

let invocation = StageInvocation(spec)
let sourceField = invocation.options.value("source")
let keyProgram = ExpressionOptions.compileOption("by", invocation)
let descending = invocation.options.flag("reverse")
if descending && keyProgram == nil { invocation.usageError("-r/--reverse goes with --by EXPR") }
let configuration = invocation.configuration
if configuration.inputPaths.filter({ $0 == "-" }).count > 1 {
    invocation.usageError("standard input (-) can be read only once")
}

/// Orders records by the first output of the `--by` expression, in jq's order.
struct ExpressionOrder: MergeOrder {
    let program: Program
    let descending: Bool

    func key(of record: UnsafeRawBufferPointer, at position: RecordPosition) throws(RecordError) -> JSONValue {
        let value = try RecordDecoding.parse(record, keeping: program.inputPaths)
        guard let key = try program.firstOutput(of: value, at: position) else { throw RecordError("--by gave no key for this record (the expression yielded nothing)") }
        return key
    }

    func precedes(_ left: JSONValue, _ right: JSONValue) -> Bool {
        let order = ValueOrder.compare(left, right)
        return descending ? order > 0 : order < 0
    }
}

/// Validates and compacts each record; optionally sets its input's name.
struct MergeRecord: RecordTransform {
    let sourceField: String?

    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let start = output.count
        try RecordDecoding.compact(record, into: &output)
        if let sourceField {
            try ObjectEditing.setField(sourceField, to: .string(position.displayName), inCompactObjectFrom: start, of: &output)
        }
        output.append(0x0A)
        return 1
    }
}

if let keyProgram {
    let source = MergedSource(paths: configuration.inputPaths, framer: LineFramer(),
                              order: ExpressionOrder(program: keyProgram, descending: descending),
                              maxRecordBytes: configuration.maxRecordBytes)
    await invocation.run(source: source) { MergeRecord(sourceField: sourceField) }
} else {
    let source = InterleavedSource(paths: configuration.inputPaths, framer: LineFramer(), maxRecordBytes: configuration.maxRecordBytes)
    await invocation.run(source: source) { MergeRecord(sourceField: sourceField) }
}
