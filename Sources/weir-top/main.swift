import WeirCore
import WeirExpression

let countRange = 0...10_000_000

let spec = StageSpec(
    name: "top",
    summary: "write the N records with the largest keys",
    description: """
        Writes the N records (default 10) with the largest values of the jq expression given \
        to --by, largest first, like jq's sort_by(KEY) | reverse | .[:N] but in one pass and in \
        memory for N records only; -r writes the N smallest, smallest first (min_by for N = 1). \
        Keys are ordered as jq orders values: null < false < true < numbers < strings < arrays \
        < objects, numbers by value (big integer literals exactly), strings by code point. \
        Records with equal keys keep their input order, and the earlier one is kept when only \
        one fits. Records are validated and compacted as by weir-cat.

        With --group EXPR, writes the top N of each value of EXPR (compared as jq's == does), \
        groups in the order they first appear in the input; memory is N records per group.

        Nothing is written before the input ends. Each worker keeps its own top N and they are \
        merged at the end (the top of the tops is the top), so the output does not depend on \
        -j. A record on which an expression fails, or yields no value or several, is a bad \
        record (see --errors).
        """,
    options: [
        .value("lines", short: "n", "N", default: "10", help: "How many records to write (per group with --group), \(ParsedOptions.rangeText(countRange))."),
        .value("by", "EXPR", help: "The key to rank records by (a jq expression; required)."),
        .flag("reverse", short: "r", help: "Write the records with the smallest keys, smallest first."),
        .value("group", "EXPR", help: "Write the top N of each value of the jq expression EXPR, groups in first-seen order."),
    ],
    examples: [
        StageExample(
            "The two most expensive products",
            command: "weir-top -n 2 --by .price",
            input: "{\"sku\":\"a\",\"price\":3}\n{\"sku\":\"b\",\"price\":12.5}\n{\"sku\":\"c\",\"price\":7}\n",
            output: "{\"sku\":\"b\",\"price\":12.5}\n{\"sku\":\"c\",\"price\":7}\n"),
        StageExample(
            "The cheapest product of each city; ties keep input order",
            command: "weir-top -n 1 -r --by .price --group .city",
            input: "{\"city\":\"Lyon\",\"price\":5}\n{\"city\":\"Nice\",\"price\":2}\n{\"city\":\"Lyon\",\"price\":1}\n{\"city\":\"Nice\",\"price\":2.0}\n",
            output: "{\"city\":\"Lyon\",\"price\":1}\n{\"city\":\"Nice\",\"price\":2}\n"),
    ]
)

let invocation = StageInvocation(spec)
let count = invocation.integer("lines", default: 10, range: countRange)
guard let key = ExpressionOptions.compileOption("by", invocation) else { invocation.usageError("missing --by EXPR (the key to rank records by)") }
let group = ExpressionOptions.compileOption("group", invocation)
let largest = !invocation.options.flag("reverse")

/// Keeps each worker's top N per group; merged and written at the end of input.
struct Top: RecordTransform {
    let key: Program
    let group: Program?
    let paths: JSONPathTree
    var keeper: TopRecordsByGroup<JSONValue>
    var groupText: [UInt8] = []
    var compacted: [UInt8] = []

    init(key: Program, group: Program?, count: Int, largest: Bool) {
        self.key = key
        self.group = group
        var paths = key.inputPaths
        if let group { paths.formUnion(group.inputPaths) }
        self.paths = paths
        keeper = TopRecordsByGroup(capacity: count, largest: largest, compare: ValueOrder.compare)
    }

    var finishWritesHeldRecords: Bool { true }

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        var isCompact = false
        let value = try RecordDecoding.parse(record, keeping: paths, isCompact: &isCompact)
        let keyValue = try key.singleOutput(of: value, at: position, option: "--by")
        groupText.removeAll(keepingCapacity: true)
        if let group { GroupingKey.write(try group.singleOutput(of: value, at: position, option: "--group"), into: &groupText) }
        compacted.removeAll(keepingCapacity: true)
        JSONCompactor.appendValidated(record, isCompact: isCompact, into: &compacted)  // validated by the parse above
        compacted.withUnsafeBytes { record in
            groupText.withUnsafeBytes { group in
                _ = keeper.offer(keyValue, at: InputOrder(position), group: group, record: record)
            }
        }
        return 0
    }

    mutating func merge(_ other: consuming Top) {
        keeper.merge(other.keeper)
    }

    mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int {
        var written = 0
        for (_, entries) in keeper.sortedGroups {
            for entry in entries {
                output.append(contentsOf: entry.record)
                output.append(0x0A)
                written += 1
            }
        }
        return written
    }
}

await invocation.run { Top(key: key, group: group, count: count, largest: largest) }
