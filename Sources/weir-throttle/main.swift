import WeirCore
import WeirExpression

let burstRange = 1...1_000_000_000

let spec = StageSpec(
    name: "throttle",
    summary: "pass records through at most at a given rate, overall or per key",
    operands: "--rate N/s|N/m [FILE...]",
    description: """
        Passes every record through, in order, at most at --rate records a second, minute or \
        hour, like pv -L for records or a rate limiter in front of an API. A token bucket holds \
        up to --burst tokens (default 1: records evenly spaced, one every 1/rate seconds) and \
        refills at the rate; each record takes a token, and waits for one when there is none. \
        Each record is written and flushed as soon as it has its token, so the consumer sees \
        records as they pass. Records are validated and compacted as by weir-cat.

        Nothing piles up: while a record waits, the stage stops reading (beyond the few chunks \
        in flight), so a fast producer upstream is slowed down too (backpressure). A closed \
        consumer (| head -1) or SIGTERM ends the wait at once.

        With --by EXPR, each key has its own bucket, so each key gets the rate: the key is the \
        list of EXPR's outputs on the record, as jq's [EXPR] (keys compare as compact JSON, so \
        1 and 1.0 are different keys). An expression that fails on a record makes it bad (see \
        --errors). Order is still kept: a record waiting for its key's token holds back the \
        records after it, even those whose keys have tokens to spare.

        The rate is N/s, N/m or N/h with N a positive decimal number: 20/s, 100/m, 0.5/s. \
        Each wait overshoots by a little, and with a burst of 1 the overshoot is never made \
        up: above a few hundred records a second the rate reached falls short of --rate unless \
        --burst is raised too (to a hundredth of the rate a second, say).
        """,
    options: [
        .value("rate", "N/s|N/m", help: "Pass at most N records a second (N/s), minute (N/m) or hour (N/h), N a positive number up to 1000000000; required."),
        .value("burst", "B", default: "1", help: "Let up to B records through at once after a quiet spell, \(ParsedOptions.rangeText(burstRange))."),
        .value("by", "EXPR", help: "Give each key, the outputs of the jq expression EXPR on a record, a bucket of its own."),
    ],
    examples: [
        StageExample(
            "At most 100 records a second",
            command: "weir-throttle --rate 100/s",
            input: "{\"sku\":\"A-1\"}\n{\"sku\":\"B-2\"}\n{\"sku\":\"C-3\"}\n",
            output: "{\"sku\":\"A-1\"}\n{\"sku\":\"B-2\"}\n{\"sku\":\"C-3\"}\n"),
        StageExample(
            "Two requests a second per host, the first of each at once",
            command: "weir-throttle --rate 2/s --by .host",
            input: "{\"host\":\"a.example\",\"path\":\"/1\"}\n{\"host\":\"b.example\",\"path\":\"/1\"}\n",
            output: "{\"host\":\"a.example\",\"path\":\"/1\"}\n{\"host\":\"b.example\",\"path\":\"/1\"}\n"),
        StageExample(
            "Ten a minute, in bursts of up to three",
            command: "weir-throttle --rate 10/m --burst 3",
            input: "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n",
            output: "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n"),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options
guard let rate = invocation.checked({ () throws(UsageError) in try options.rate("rate") }) else {
    invocation.usageError("missing --rate N/s (or N/m, N/h)")
}
let burst = invocation.integer("burst", default: 1, range: burstRange)
let keyProgram = ExpressionOptions.compileOption("by", invocation)

/// Validates and compacts each record; with --by, prefixes it with its key and a tab.
struct KeyRecord: RecordTransform {
    let keyProgram: Program?

    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        if let keyProgram {
            let value = try RecordDecoding.parse(record, keeping: keyProgram.inputPaths)
            output.append(UInt8(ascii: "["))
            var first = true
            do {
                try keyProgram.evaluate(value, context: evaluationContext(position)) { key in
                    if !first { output.append(UInt8(ascii: ",")) }
                    JSONWriter.write(key, into: &output)
                    first = false
                }
            } catch {
                throw recordError(error)
            }
            output.append(contentsOf: [UInt8(ascii: "]"), 0x09])
        }
        try RecordDecoding.compact(record, into: &output)
        output.append(0x0A)
        return 1
    }
}

/// Waits for each record's token, then writes it; after a stop, lets nothing more through.
struct Throttle: RecordStep {
    /// It waits for tokens: the writer gets a thread of its own.
    var mayBlock: Bool { true }
    var limiter: RateLimiter<[UInt8], MonotonicClock>
    let keyed: Bool
    var stopped = false

    mutating func take(_ line: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        guard !stopped else { return }
        let (key, record) = keyed ? RecordStepSink<Throttle>.splitKey(line) : (UnsafeRawBufferPointer(start: nil, count: 0), line)
        let acquired = try limiter.acquire(Array(key)) { (seconds) throws(IOError) in try output.pause(seconds) }
        guard acquired else {
            stopped = true
            return
        }
        try output.emit(record)
    }
}

let limiter = RateLimiter<[UInt8], MonotonicClock>(tokensPerSecond: rate.perSecond, burst: burst, clock: MonotonicClock())
await invocation.run(sink: RecordStepSink(Throttle(limiter: limiter, keyed: keyProgram != nil))) { KeyRecord(keyProgram: keyProgram) }
