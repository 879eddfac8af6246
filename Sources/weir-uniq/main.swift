import WeirCore
#if canImport(Glibc)
import Glibc
#endif
import WeirExpression

let spec = StageSpec(
    name: "uniq",
    summary: "write the first record of each distinct key",
    description: """
        Writes the first record of each distinct key, in input order, like awk '!seen[$0]++' \
        or jq's unique_by without the sort; records are validated and compacted as by weir-cat. \
        The key is the whole record by default, compared as a JSON value: {"a":1,"b":2} and \
        { "b": 2, "a": 1.0 } are the same record, as jq's unique says (numbers by value, object \
        keys in any order). With --by EXPR the key is the value of the jq expression EXPR, \
        compared as jq's == does. A record on which EXPR fails, or yields no value or several, \
        is a bad record (see --errors).

        --count writes one {"key": KEY, "count": N} per key instead, in first-seen order, at \
        the end of input; KEY is written as keys compare (numbers by value, so 1.10 is 1.1; \
        object keys sorted). --repeated writes only keys seen more than once and --unique only \
        keys seen once, like uniq -d and uniq -u: their first record (or, with --count, their \
        count), in first-seen order, at the end of input.

        Memory grows with the distinct keys only: a key of up to 15 bytes costs about 28 bytes; \
        a longer key (a whole record, say) is known by its 128-bit hash and its text is kept \
        too, so a hash collision can never merge two keys. --hashed keeps only the hash of long \
        keys (about 28 bytes a key, whatever its length): two different keys are then taken as \
        one only if their hashes collide, a chance of about 3 in 10^21 for a billion keys. \
        --repeated and --unique also hold the first record of each key until the end. --memory \
        SIZE bounds all this: when it is reached the run stops with an error that says so \
        (raise the bound, use --hashed, or --sorted on sorted input).

        --sorted assumes records with the same key are adjacent (input sorted by the key, as \
        uniq assumes) and uses constant memory: output is written as each run of equal keys \
        ends. On unsorted input, a key that comes back after another is written again.
        """,
    options: [
        .value("by", "EXPR", help: "Compare records by the value of the jq expression EXPR instead of the whole record."),
        .flag("count", short: "c", help: "Write {\"key\": KEY, \"count\": N} per key instead of its first record."),
        .flag("sorted", help: "Records with equal keys are adjacent: constant memory, output as each run ends."),
        .flag("repeated", short: "d", help: "Only keys seen more than once (uniq -d)."),
        .flag("unique", short: "u", help: "Only keys seen exactly once (uniq -u)."),
        .flag("hashed", help: "Keep only the 128-bit hash of keys longer than 15 bytes (not with --count)."),
        .value("memory", "SIZE", default: "unbounded", help: "Stop with an error when the keys (and held records) need more than SIZE bytes (suffixes K, M, G)."),
    ],
    examples: [
        StageExample(
            "Drop duplicate records, comparing them as JSON values",
            command: "weir-uniq",
            input: "{\"a\":1,\"b\":2}\n{\"b\":2, \"a\":1.0}\n{\"a\":2}\n",
            output: "{\"a\":1,\"b\":2}\n{\"a\":2}\n"),
        StageExample(
            "The first record of each city",
            command: "weir-uniq --by .city",
            input: "{\"city\":\"Lyon\",\"id\":1}\n{\"city\":\"Nice\",\"id\":2}\n{\"city\":\"Lyon\",\"id\":3}\n",
            output: "{\"city\":\"Lyon\",\"id\":1}\n{\"city\":\"Nice\",\"id\":2}\n"),
        StageExample(
            "Count the records of each key, in first-seen order",
            command: "weir-uniq --count --by .city",
            input: "{\"city\":\"Lyon\"}\n{\"city\":\"Nice\"}\n{\"city\":\"Lyon\"}\n",
            output: "{\"key\":\"Lyon\",\"count\":2}\n{\"key\":\"Nice\",\"count\":1}\n"),
        StageExample(
            "Keys seen only once, on input sorted by the key",
            command: "weir-uniq --unique --sorted --by .id",
            input: "{\"id\":1}\n{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":3}\n",
            output: "{\"id\":2}\n"),
    ]
)

let invocation = StageInvocation(spec)
let key = ExpressionOptions.compileOption("by", invocation) ?? (try! Program.compile("."))
if invocation.options.flag("repeated") && invocation.options.flag("unique") {
    invocation.usageError("--repeated and --unique exclude each other")
}
if invocation.options.flag("hashed") && invocation.options.flag("count") {
    invocation.usageError("--count writes the keys, so it keeps their text: leave out --hashed")
}
let memoryLimit = invocation.options.value("memory") == nil ? nil : invocation.byteSize("memory", default: 0, range: (1 << 16)...(1 << 50))

/// Which keys are written.
enum Selection { case all, repeated, unique }

/// Keeps the first record of each key (or counts), in input order.
struct Uniq: RecordStep {
    let selection: Selection
    let counting: Bool
    let sorted: Bool
    let memoryLimit: Int?
    var keys: DistinctKeySet
    /// Records per key, by ordinal (when output waits for the end of input).
    var counts: [Int] = []
    /// The first record of each key, by ordinal (--repeated, --unique).
    var firsts = RecordArena()
    /// With --sorted: the current run of equal keys.
    var runKey: [UInt8]? = nil
    var runCount = 0
    var runFirst: [UInt8] = []

    /// True when each record is written (or dropped) as it comes.
    var writesAtOnce: Bool { selection == .all && !counting }

    mutating func take(_ line: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        let (key, record) = RecordStepSink<Uniq>.splitKey(line)
        if sorted { return try takeSorted(key, record, &output) }
        let (ordinal, inserted) = keys.insert(key)
        if writesAtOnce {
            if inserted { try output.emit(record) } else { output.drop() }
        } else if inserted {
            counts.append(1)
            if !counting { firsts.append(record) }
        } else {
            counts[ordinal] += 1
        }
        if inserted, let memoryLimit, keys.memoryBytes + firsts.memoryBytes + counts.capacity * 8 > memoryLimit {
            try output.flush()  // what was already written stays written
            throw IOError(code: ENOMEM, context: "the --memory bound of \(ParsedOptions.sizeText(memoryLimit)) was reached after \(keys.count) distinct keys; raise it (--memory SIZE)\(counting ? "" : ", use --hashed") or, on input sorted by the key, --sorted")
        }
    }

    private mutating func takeSorted(_ key: UnsafeRawBufferPointer, _ record: UnsafeRawBufferPointer, _ output: inout StepOutput) throws(IOError) {
        if let runKey, runKey.elementsEqual(key) {
            runCount += 1
            if writesAtOnce { output.drop() }
            return
        }
        try endRun(&output)
        runKey = Array(key)
        runCount = 1
        if writesAtOnce {
            try output.emit(record)
        } else {
            runFirst.removeAll(keepingCapacity: true)
            runFirst.append(contentsOf: record)
        }
    }

    /// Writes what the run of equal keys that just ended gives (sorted mode).
    private mutating func endRun(_ output: inout StepOutput) throws(IOError) {
        guard let runKey, !writesAtOnce else { return }
        try runFirst.withBytes { (first) throws(IOError) in try write(key: runKey, count: runCount, first: first, &output) }
    }

    /// Writes one key's result: its count or first record when selected; counts the rest as dropped.
    private func write(key: [UInt8], count: Int, first: UnsafeRawBufferPointer, _ output: inout StepOutput) throws(IOError) {
        let selected = selection == .all || (selection == .repeated ? count > 1 : count == 1)
        guard selected else { return output.drop(count) }
        output.drop(count - 1)
        guard counting else { return try output.emit(first) }
        var line = Array(#"{"key":"#.utf8)
        line.append(contentsOf: key)
        line.append(contentsOf: #","count":"#.utf8)
        line.append(contentsOf: String(count).utf8)
        line.append(UInt8(ascii: "}"))
        try output.emit(line)
    }

    mutating func finish(output: inout StepOutput) throws(IOError) {
        if sorted { return try endRun(&output) }
        guard !writesAtOnce else { return }
        for ordinal in 0..<keys.count {
            if counting {
                try write(key: keys.key(ordinal) ?? [], count: counts[ordinal], first: UnsafeRawBufferPointer(start: nil, count: 0), &output)
            } else {
                try firsts.withRecord(ordinal) { (first) throws(IOError) in try write(key: [], count: counts[ordinal], first: first, &output) }
            }
        }
    }
}

let options = invocation.options
let selection: Selection = options.flag("repeated") ? .repeated : options.flag("unique") ? .unique : .all
let uniq = Uniq(
    selection: selection, counting: options.flag("count"), sorted: options.flag("sorted"), memoryLimit: memoryLimit,
    keys: DistinctKeySet(mode: options.flag("hashed") ? .hashed : .exact))
await invocation.run(sink: RecordStepSink(uniq)) { KeyedRecordTransform(key: key) }
