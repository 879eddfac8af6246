import WeirCore
import WeirExpression

let maxCollectRange = 0...100_000_000

let spec = StageSpec(
    name: "stats",
    summary: "compute grouped aggregates: counts, sums, means, quantiles, distinct counts",
    operands: "[AGG...] [FILE...]",
    description: """
        Writes one record per group of the records read, holding the group's key and the \
        aggregates asked for, like SQL's GROUP BY, mlr stats1 or jq's group_by(KEY) | map({...}). \
        Groups are the values of the --by expressions (compared as jq's == does, so 1 and 1.0 are \
        one group), written in the order they were first seen, or sorted by key with --sort; without \
        --by all the records are one group, and one record is written even for no input.

        Each AGG is KIND or KIND:EXPR, EXPR a jq expression evaluated on each record (every value it \
        yields counts; a record on which it yields none adds nothing). KIND is one of: count \
        (records), sum, mean, min, max, stddev and var (sample: divisor n - 1), first, last, \
        distinct (exact count of distinct values), approx-distinct (HyperLogLog), p50, p90, p99, any \
        pNN or quantile(Q) (0 <= Q <= 1), collect (an array of the values, at most --max-collect), \
        and mode (the most frequent value; ties go to the smallest). The output field is named after \
        the kind and the words of EXPR (count, sum_price, p90_latency, approx_distinct_user_id); \
        write 'sum:.price as revenue' to rename it. A --by field is named after the last path \
        component (--by .store.city gives city), or '--by ".store.city as town"'. AGGs come first \
        among the operands; the first operand that is not an AGG and everything after it are input \
        files (write ./count for a file named count). With no AGG, count.

        Numbers are exact: sums are computed on the decimal values of the literals as written, in \
        arbitrary precision, so 0.1 + 0.2 is 0.3 and big integers add without loss; mean, var and \
        stddev are computed from the exact sums and rounded once. A computed number (no literal) \
        counts as the decimal jq prints for it. sum, mean, var, stddev and the quantiles need \
        numbers: they skip null, and any other value makes the record bad (see --errors; a bad record \
        changes no aggregate), unless --skip-non-numbers drops just that value. min and max take any \
        value but null, in jq's order (false < true < numbers < strings < arrays < objects; numbers \
        by value, big integers exactly); first, last, collect, distinct and mode take every value, \
        null (a missing field) included. Values equal as jq's == are one value for distinct and \
        mode (which writes it as its canonical text: 1.0 as 1).

        Quantiles are exact by default: h = q(n-1), the element at h when h is whole, else linear \
        interpolation between its neighbours (numpy's default, R type 7, Python's \
        statistics.quantiles(method='inclusive')). Exact quantiles keep every value of the group in \
        memory. With --approx they come from a mergeable DDSketch instead: the answer is within 1% \
        (relative) of the order statistic x[floor(q(n-1))], in memory bounded by the range of \
        magnitudes, not the number of values. approx-distinct has a standard error of 0.81% \
        (HyperLogLog, 2^14 registers, 16 KiB per group).

        Partial aggregation: --partial writes each group's state instead of its answer, as NDJSON \
        lines {"weir_stats_partial":1,"spec":...,"key":[...],"aggs":[...]}; --merge reads such \
        lines (from any number of files) and combines the states of each group, giving exactly the \
        answer of one run over all the data, whichever way the data was split (by lines or by key); \
        --merge --partial writes the combined states again. Every aggregate merges exactly and in \
        any order, except that first, last, collect and the order of groups follow the order of the \
        partial lines, so list the parts in their original order. --merge needs the same --by, \
        AGGs and --approx as the partial runs; a partial made with others is a usage error (status 2).

        Memory grows with the groups, not the records: each group keeps a few numbers per \
        aggregate, plus every value for exact quantiles, the distinct values for distinct and mode, \
        and up to --max-collect values for collect. --stats adds groups and state_bytes (an \
        estimate of the memory the groups hold).
        """,
    options: [
        .value("by", "EXPR", repeatable: true, help: "Group by the value of the jq expression EXPR (repeat for a key of several values; 'EXPR as NAME' names the field)."),
        .flag("sort", help: "Write the groups sorted by key in jq's order instead of in first-seen order."),
        .flag("approx", help: "Compute quantiles with a mergeable sketch (within 1% relative error) instead of keeping every value."),
        .value("max-collect", "N", default: "1000", help: "The most values collect keeps per group (the first N in input order), \(ParsedOptions.rangeText(maxCollectRange))."),
        .flag("skip-non-numbers", help: "Ignore a value that is not a number where a number is needed, instead of making the record bad."),
        .flag("partial", help: "Write each group's partial state (for --merge) instead of its answer."),
        .flag("merge", help: "Read partial states written by --partial and combine them."),
    ],
    examples: [
        StageExample(
            "Count, total and average per shop",
            command: "weir-stats --by .shop count sum:.price mean:.price",
            input: "{\"shop\":\"A\",\"price\":0.1}\n{\"shop\":\"B\",\"price\":5}\n{\"shop\":\"A\",\"price\":0.2}\n",
            output: "{\"shop\":\"A\",\"count\":2,\"sum_price\":0.3,\"mean_price\":0.15}\n{\"shop\":\"B\",\"count\":1,\"sum_price\":5,\"mean_price\":5}\n"),
        StageExample(
            "Quantiles and distinct counts over all records, renamed",
            command: "weir-stats 'p50:.ms as median' p90:.ms distinct:.user",
            input: "{\"ms\":10,\"user\":\"a\"}\n{\"ms\":20,\"user\":\"b\"}\n{\"ms\":30,\"user\":\"a\"}\n{\"ms\":40,\"user\":\"c\"}\n",
            output: "{\"median\":25,\"p90_ms\":37,\"distinct_user\":3}\n"),
        StageExample(
            "Partial states merged: the same answer as one run",
            command: "weir-stats --partial --by .k sum:.n | weir-stats --merge --by .k sum:.n",
            input: "{\"k\":\"x\",\"n\":1}\n{\"k\":\"y\",\"n\":2}\n{\"k\":\"x\",\"n\":3}\n",
            output: "{\"k\":\"x\",\"sum_n\":4}\n{\"k\":\"y\",\"sum_n\":2}\n"),
    ]
)

var invocation = StageInvocation(spec)
var aggregateTexts: [String] = []
while let operand = invocation.operands.first, AggregateSpec.looksLikeAggregate(operand) {
    aggregateTexts.append(invocation.takeOperand("AGG"))
}
if aggregateTexts.isEmpty { aggregateTexts = ["count"] }
let statsConfiguration = invocation.checked { () throws(UsageError) in
    try StatsConfiguration(
        keys: invocation.options.values("by").map { (text) throws(UsageError) in try GroupKeySpec.parse(text) },
        aggregates: aggregateTexts.map { (text) throws(UsageError) in try AggregateSpec.parse(text) },
        skipsNonNumbers: invocation.options.flag("skip-non-numbers"),
        approximateQuantiles: invocation.options.flag("approx"),
        maxCollect: invocation.integer("max-collect", default: 1000, range: maxCollectRange))
}
let writesPartials = invocation.options.flag("partial")
let mergesPartials = invocation.options.flag("merge")
let sortsGroups = invocation.options.flag("sort")

/// Set when a partial state was made with other options (a usage error: status 2).
let foreignPartials = StageCounter("foreign_partials")
let groupCount = StageCounter("groups")
let stateBytes = StageCounter("state_bytes")

/// Feeds each record (or partial state) to this worker's groups; at end of input the
/// workers' groups are merged and written once.
struct Stats: RecordTransform {
    let configuration: StatsConfiguration
    let mergesPartials: Bool
    let writesPartials: Bool
    let sortsGroups: Bool
    let counters: (foreignPartials: StageCounter, groups: StageCounter, stateBytes: StageCounter)
    var groups: GroupedAggregation

    init(configuration: StatsConfiguration, mergesPartials: Bool, writesPartials: Bool, sortsGroups: Bool,
         counters: (foreignPartials: StageCounter, groups: StageCounter, stateBytes: StageCounter)) {
        self.configuration = configuration
        self.mergesPartials = mergesPartials
        self.writesPartials = writesPartials
        self.sortsGroups = sortsGroups
        self.counters = counters
        groups = GroupedAggregation(configuration: configuration)
    }

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        guard mergesPartials else {
            try groups.add(RecordDecoding.parse(record, keeping: configuration.inputPaths), at: position)
            return 0
        }
        let state = try RecordDecoding.parse(record)
        do throws(GroupedAggregation.PartialProblem) {
            try groups.addPartial(state, at: position)
        } catch {
            switch error {
            case .malformed(let message): throw RecordError(message)
            case .otherOptions:
                counters.foreignPartials.add()
                throw RecordError("partial state made with other options than --by/AGG/--approx here: \(JSONWriter.string(configuration.signature))")
            }
        }
        return 0
    }

    mutating func merge(_ other: consuming Stats) {
        groups.merge(other.groups)
    }

    mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int {
        groups.ensureSingleGroup()
        counters.groups.set(groups.groupCount)
        counters.stateBytes.set(groups.stateBytes)
        return writesPartials ? groups.writePartials(into: &output, sortedByKey: sortsGroups) : groups.writeResults(into: &output, sortedByKey: sortsGroups)
    }
}

/// Writes the results, and reports the groups and their memory for `--stats`.
struct StatsSink: OutputSink {
    let groupCount: StageCounter
    let stateBytes: StageCounter

    mutating func begin(_ target: OutputTarget) throws(IOError) {}
    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) { try target.write(bytes) }
    mutating func finish(_ target: OutputTarget) throws(IOError) {}
    mutating func report(into report: inout SinkReport) {
        report.setStatistic(groupCount.name, groupCount.value)
        report.setStatistic(stateBytes.name, stateBytes.value)
    }
}

let counters = (foreignPartials: foreignPartials, groups: groupCount, stateBytes: stateBytes)
await invocation.run(sink: StatsSink(groupCount: groupCount, stateBytes: stateBytes), amendingOutcome: { outcome in
    if foreignPartials.value > 0, outcome.signal == nil { outcome.status = 2 }
}) {
    Stats(configuration: statsConfiguration, mergesPartials: mergesPartials, writesPartials: writesPartials,
          sortsGroups: sortsGroups, counters: counters)
}
