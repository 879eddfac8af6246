import WeirCore

/// The values `--indent` accepts.
let indentRange = 0...8

let spec = StageSpec(
    name: "to-json",
    summary: "turn NDJSON into one JSON array, or into indented JSON for people",
    description: """
        Reads NDJSON records and writes them as one JSON array, streamed: the opening bracket \
        is written at once and each record as it arrives, one per line, so memory stays flat and \
        the result can be read by any JSON tool. Records are validated as by weir-cat and copied \
        with their literals intact.

        With --pretty, each record is instead indented like jq . does (two spaces, "key": value), \
        in colour when standard output is a terminal (see --color); add --array to indent the \
        whole array.
        """,
    options: [
        .flag("pretty", short: "p", help: "Indent each record like jq . (one indented value per record)."),
        .flag("array", short: "a", help: "With --pretty, write one indented array rather than one value per record."),
        .value("indent", "N", default: "2", help: "Spaces per level with --pretty, \(ParsedOptions.rangeText(indentRange))."),
        .value("color", "WHEN", default: "auto", choices: ColorChoice.self, help: "Colour the --pretty output: \(ColorChoice.valuesText); auto colours a terminal unless NO_COLOR is set."),
    ],
    examples: [
        StageExample(
            "Wrap records in an array",
            command: "weir-to-json",
            input: "{\"sku\":\"A-1\"}\n{\"sku\":\"B-2\"}\n",
            output: "[\n{\"sku\":\"A-1\"},\n{\"sku\":\"B-2\"}\n]\n"),
        StageExample(
            "Indent for reading",
            command: "weir-to-json --pretty",
            input: "{\"sku\":\"A-1\",\"tags\":[\"new\"],\"price\":1.10}\n",
            output: "{\n  \"sku\": \"A-1\",\n  \"tags\": [\n    \"new\"\n  ],\n  \"price\": 1.10\n}\n"),
        StageExample(
            "No input gives an empty array",
            command: "weir-to-json",
            input: "",
            output: "[]\n"),
    ]
)

let invocation = StageInvocation(spec)
let pretty = invocation.options.flag("pretty")
let asArray = !pretty || invocation.options.flag("array")
let indent = invocation.integer("indent", default: 2, range: indentRange)
/// When `--color` colours the output.
let colorChoice = invocation.choice("color", default: ColorChoice.auto)
let outputIsTerminal = invocation.options.value("output") == nil && SystemIO.isTerminal(SystemIO.standardOutput)
let colors: JSONColors? = pretty && colorChoice.usesColor(outputIsTerminal: outputIsTerminal) ? .jq : nil

/// Validates each record and writes it compact or indented. Records end in `\n`, or in array
/// mode in a NUL byte (which JSON text never contains raw) that ``ArraySink`` turns into separators.
struct FormatRecord: RecordTransform {
    let pretty: Bool
    let indent: Int
    let colors: JSONColors?
    let asArray: Bool
    var scratch: [UInt8] = []

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let terminator: UInt8 = asArray ? 0 : 0x0A
        guard pretty else {
            try RecordDecoding.compact(record, into: &output)
            output.append(terminator)
            return 1
        }
        scratch.removeAll(keepingCapacity: true)
        try RecordDecoding.compact(record, into: &scratch)
        let start = output.count
        scratch.withUnsafeBytes { JSONPrettyPrinter.format($0, indent: indent, colors: colors, into: &output) }
        if asArray {
            // Structural newlines are the only raw newlines in JSON text: indent every line.
            let pad = [UInt8](repeating: 0x20, count: indent)
            var indented: [UInt8] = pad
            for byte in output[start...] {
                indented.append(byte)
                if byte == 0x0A { indented.append(contentsOf: pad) }
            }
            output.replaceSubrange(start..., with: indented)
        }
        output.append(terminator)
        return 1
    }
}

/// Writes `[`, the records separated by `,` and a line end, and `]`; or passes records through.
struct ArraySink: OutputSink {
    let enabled: Bool
    var wroteRecord = false

    mutating func begin(_ target: OutputTarget) throws(IOError) {
        if enabled { try target.write(Array("[".utf8)) }
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        guard enabled else { return try target.write(bytes) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 64)
        var start = 0
        for index in 0..<bytes.count where bytes[index] == 0 {
            output.append(contentsOf: wroteRecord ? [UInt8(ascii: ","), 0x0A] : [0x0A])
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            wroteRecord = true
            start = index + 1
        }
        try target.write(output)
    }

    mutating func finish(_ target: OutputTarget) throws(IOError) {
        guard enabled else { return }
        try target.write(Array((wroteRecord ? "\n]\n" : "]\n").utf8))
    }
}

await invocation.run(sink: ArraySink(enabled: asArray)) {
    FormatRecord(pretty: pretty, indent: indent, colors: colors, asArray: asArray)
}
