import WeirCore
import WeirExpression

let memoryRange = (64 << 10)...(1 << 40)
let fanInRange = 2...1024

let spec = StageSpec(
    name: "sort",
    summary: "sort records by one or more keys, in jq's order, in bounded memory",
    description: """
        Sorts records by the keys given with --by EXPR (the whole record when there is none), \
        like jq's sort_by, validated and compacted as by weir-cat. Keys compare in jq's order: \
        null < false < true < numbers < strings < arrays < objects; numbers by value (integer \
        literals beyond 2^53 by their digits, so big IDs sort exactly), strings by code point, \
        arrays element by element, objects by their sorted keys and then their values. The sort \
        is stable: records with equal keys keep their input order.

        The key of a record under one --by EXPR is the array of all of EXPR's outputs, as \
        jq's sort_by(EXPR) uses [EXPR]: an expression that yields nothing (a missing field \
        gives null, but .a[] of an empty array gives nothing) sorts first, as []. Several --by \
        options sort by the first, then the second among equals, and so on (jq's \
        sort_by(EXPR1, EXPR2) when each yields one value). A record on which an expression \
        fails is a bad record (see --errors).

        -r, --numeric, --natural and --ignore-case change the --by key they follow; given \
        before the first --by, they apply to every key. --desc EXPR is --by EXPR -r. \
        --numeric compares numbers, and strings that hold a JSON number, by value, and puts \
        every other value after them; --natural compares runs of digits inside strings as \
        numbers (a2 < a10); --ignore-case compares strings by their lower-case form.

        Memory: records and their keys are held up to --memory (default 256M, counting each \
        record's bytes, its key and 16 bytes of bookkeeping); a larger input is sorted in runs \
        of that size, spread over -j threads, spilled to temporary files in --tmp (default \
        $TMPDIR, else /tmp) and merged, at most --fan-in runs at once (more runs are merged in \
        several passes). Temporary files are unlinked as soon as they are created, so none is \
        ever left behind, whatever ends the run; a full temporary disk is an error naming the \
        directory. Nothing is written before the input ends.
        """,
    options: [
        .value("by", "EXPR", repeatable: true, help: "Sort by the outputs of the jq expression EXPR (repeat for more keys)."),
        .value("desc", "EXPR", repeatable: true, help: "Sort by EXPR in descending order (--by EXPR -r)."),
        .flag("reverse", short: "r", help: "Descending order for the key before (or, first, for every key)."),
        .flag("numeric", short: "n", help: "Compare numbers and numeric strings by value, other values after them."),
        .flag("natural", short: "V", help: "Compare runs of digits in strings as numbers (a2 before a10)."),
        .flag("ignore-case", short: "f", help: "Compare strings by their lower-case form."),
        .value("memory", "SIZE", default: "256M", help: "Memory for records and keys before runs spill to disk, \(ParsedOptions.sizeRangeText(memoryRange))."),
        .value("tmp", "DIR", default: "$TMPDIR or /tmp", help: "Directory for the temporary files of the sorted runs."),
        .value("fan-in", "N", default: "64", help: "The most runs merged at once (open temporary files), \(ParsedOptions.rangeText(fanInRange))."),
    ] + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "Sort by a field, in jq's order (null first, then numbers)",
            command: "weir-sort --by .price",
            input: "{\"sku\":\"A\",\"price\":9.5}\n{\"sku\":\"B\",\"price\":null}\n{\"sku\":\"C\",\"price\":10}\n",
            output: "{\"sku\":\"B\",\"price\":null}\n{\"sku\":\"A\",\"price\":9.5}\n{\"sku\":\"C\",\"price\":10}\n"),
        StageExample(
            "City ascending, then price descending; equal keys keep input order",
            command: "weir-sort --by .city --desc .price",
            input: "{\"city\":\"Nice\",\"price\":3,\"id\":1}\n{\"city\":\"Lyon\",\"price\":2,\"id\":2}\n{\"city\":\"Lyon\",\"price\":5,\"id\":3}\n{\"city\":\"Lyon\",\"price\":2,\"id\":4}\n",
            output: "{\"city\":\"Lyon\",\"price\":5,\"id\":3}\n{\"city\":\"Lyon\",\"price\":2,\"id\":2}\n{\"city\":\"Lyon\",\"price\":2,\"id\":4}\n{\"city\":\"Nice\",\"price\":3,\"id\":1}\n"),
        StageExample(
            "Natural order of names with numbers in them",
            command: "weir-sort --by .file --natural",
            input: "{\"file\":\"part10\"}\n{\"file\":\"part9\"}\n{\"file\":\"part1\"}\n",
            output: "{\"file\":\"part1\"}\n{\"file\":\"part9\"}\n{\"file\":\"part10\"}\n"),
    ]
)

let invocation = StageInvocation(spec)
let memoryBudget = invocation.byteSize("memory", default: 256 << 20, range: memoryRange)
let fanIn = invocation.integer("fan-in", default: 64, range: fanInRange)
let temporaryDirectory = invocation.options.value("tmp") ?? TemporaryFile.defaultDirectory
let configuration = invocation.configuration

/// The keys in command-line order, each with its options: a modifier changes the key before
/// it, or every key when it comes first.
var keys: [(program: Program, options: SortKeyOptions)] = []
var defaults = SortKeyOptions()
for (name, values) in invocation.options.occurrences {
    func modify(_ change: (inout SortKeyOptions) -> Void) {
        if keys.isEmpty { change(&defaults) } else { change(&keys[keys.count - 1].options) }
    }
    switch name {
    case "by", "desc":
        let program = ExpressionOptions.compileExpression(values[0], option: name, invocation)
        var options = defaults
        if name == "desc" { options.descending = true }
        keys.append((program, options))
    case "reverse": modify { $0.descending = true }
    case "numeric": modify { $0.numeric = true }
    case "natural": modify { $0.natural = true }
    case "ignore-case": modify { $0.ignoresCase = true }
    default: break
    }
}
if keys.isEmpty { keys.append((ExpressionOptions.compileExpression(".", option: "by", invocation), defaults)) }

/// Validates and compacts each record and puts its sort key in front (a ``SortFrame``).
struct KeyedFrames: RecordTransform {
    let keys: [(program: Program, options: SortKeyOptions)]
    let inputPaths: JSONPathTree
    private var outputs: [JSONValue] = []

    init(keys: [(program: Program, options: SortKeyOptions)]) {
        self.keys = keys
        var paths = keys[0].program.inputPaths
        for key in keys.dropFirst() { paths.formUnion(key.program.inputPaths) }
        inputPaths = paths
    }

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let frameStart = SortFrame.begin(into: &output)
        let value = try RecordDecoding.parse(record, keeping: inputPaths)
        for key in keys {
            outputs.removeAll(keepingCapacity: true)
            do {
                try key.program.evaluate(value, context: evaluationContext(position)) { outputs.append($0) }
            } catch {
                throw recordError(error)
            }
            SortKey.appendSegment(outputs, options: key.options, into: &output)
        }
        let recordStart = SortFrame.endKey(frameAt: frameStart, into: &output)
        try RecordDecoding.compact(record, into: &output)
        SortFrame.end(frameAt: frameStart, recordAt: recordStart, into: &output)
        return 1
    }
}

/// Collects every frame into the external sorter, then writes the records in order.
struct SortSink: OutputSink {
    let sorter: ExternalSorter
    private var bytesWritten = 0

    init(sorter: ExternalSorter) { self.sorter = sorter }

    var reportsBytesWritten: Bool { true }

    mutating func begin(_ target: OutputTarget) throws(IOError) {}

    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        try sorter.add(frames: bytes)
    }

    mutating func finish(_ target: OutputTarget) throws(IOError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256 << 10)
        var written = 0
        try sorter.finish { (record) throws(IOError) in
            buffer.append(contentsOf: record)
            buffer.append(0x0A)
            if buffer.count >= 256 << 10 {
                try target.write(buffer)
                written += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try target.write(buffer)
        bytesWritten += written + buffer.count
    }

    mutating func abandon() { sorter.discard() }

    mutating func report(into report: inout SinkReport) {
        report.bytesWritten += bytesWritten
        bytesWritten = 0
        report.setStatistic("runs", sorter.runsSpilled)
        report.setStatistic("merge_passes", sorter.intermediateMerges)
        report.setStatistic("bytes_spilled", sorter.bytesSpilled)
    }
}

let settings = ExternalSortSettings(
    memoryBudget: memoryBudget, temporaryDirectory: temporaryDirectory, fanIn: fanIn,
    jobs: configuration.jobs, descending: keys.map(\.options.descending))
let sorter = ExternalSorter(settings: settings) { Task.isCancelled }
let sortKeys = keys
await invocation.run(sink: SortSink(sorter: sorter)) { KeyedFrames(keys: sortKeys) }
