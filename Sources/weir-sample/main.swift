import WeirCore

let countRange = 0...1_000_000_000

let spec = StageSpec(
    name: "sample",
    summary: "keep a random sample of the records: N of them, or each with probability P",
    operands: "-n N | --fraction P [FILE...]",
    description: """
        With -n N, writes a uniform random sample of N records (all of them when there are \
        fewer) in their input order, like shuf -n N but in one pass and with memory for N \
        records only: reservoir sampling keeps N records with their positions and writes them \
        sorted by position once the input ends, so nothing is written before then.

        With --fraction P, keeps each record with probability P as it streams: output starts at \
        once and memory stays flat; how many are kept varies around P times the count. Each \
        record's fate is drawn from a hash of the seed and the record's position among the \
        valid records, nothing else.

        --seed S makes the sample reproducible: the same input, N or P, and S give the same \
        sample on any machine and for any -j. Without --seed the seed comes from the system's \
        random source (getrandom), so every run draws a different sample; nothing about the \
        seed is printed.

        Records are validated and compacted as by weir-cat; bad records follow --errors and \
        take no part in the sample. Records left out of the sample count as dropped in --stats.
        """,
    options: [
        .value("count", short: "n", "N", help: "Keep a uniform sample of N records, \(ParsedOptions.rangeText(countRange)), written in input order at the end of the input (memory holds N records)."),
        .value("fraction", "P", help: "Keep each record with probability P (a number from 0 to 1, such as 0.1), as it streams."),
        .value("seed", "S", default: "random, from the system", help: "Draw the sample from S (a whole number from 0 to 2^64-1): the same S gives the same sample."),
    ],
    examples: [
        StageExample(
            "Three records, reproducibly, in input order",
            command: "weir-sample -n 3 --seed 7",
            input: "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n{\"id\":6}\n",
            output: "{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n"),
        StageExample(
            "About half of the records, streaming",
            command: "weir-sample --fraction 0.5 --seed 42",
            input: "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n{\"id\":6}\n",
            output: "{\"id\":2}\n{\"id\":3}\n{\"id\":4}\n{\"id\":5}\n"),
        StageExample(
            "Fewer records than asked for: all of them",
            command: "weir-sample -n 10",
            input: "{\"id\":1}\n{\"id\": 2}\n",
            output: "{\"id\":1}\n{\"id\":2}\n"),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options
let count = options.value("count") == nil ? nil : invocation.integer("count", default: 0, range: countRange)
let fraction = invocation.checked { () throws(UsageError) in try options.probability("fraction") }
if (count == nil) == (fraction == nil) { invocation.usageError("give exactly one of -n N and --fraction P") }
let seed = invocation.checked { () throws(UsageError) in try options.seed() }

/// Validates and compacts each record; the sampling is the step's, in input order.
struct Compact: RecordTransform {
    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        try RecordDecoding.compact(record, into: &output)
        output.append(0x0A)
        return 1
    }
}

/// Keeps a reservoir of N records and writes it in input order at the end.
struct ReservoirStep: RecordStep {
    var sampler: ReservoirSampler<[UInt8]>

    mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        sampler.offer { Array(record) }
    }

    mutating func finish(output: inout StepOutput) throws(IOError) {
        for entry in sampler.sampleInOrder { try output.emit(entry.element) }
        output.drop(sampler.offeredCount - sampler.sampleCount)
    }
}

/// Keeps or drops each record as it comes, by its position in the input.
struct BernoulliStep: RecordStep {
    let sampler: BernoulliSampler
    var index: UInt64 = 0

    mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError) {
        defer { index += 1 }
        if sampler.keeps(index) { try output.emit(record) } else { output.drop() }
    }
}

if let count {
    await invocation.run(sink: RecordStepSink(ReservoirStep(sampler: ReservoirSampler(capacity: count, seed: seed)))) { Compact() }
} else {
    await invocation.run(sink: RecordStepSink(BernoulliStep(sampler: BernoulliSampler(probability: fraction!, seed: seed)))) { Compact() }
}
