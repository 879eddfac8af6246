import WeirCore

/// The values `--window` accepts: records held at once before the first line is written.
let windowRange = 1...100_000
/// The values `--max-width` and `--width` accept.
let widthRange = 1...1_000_000

let spec = StageSpec(
    name: "to-table",
    summary: "show NDJSON records as an aligned table for people",
    description: """
        Writes the records as columns aligned under a header, like mlr --ijsonl --opprint \
        cat, xsv table or column -t: the end of a pipeline, for reading, so its output is \
        text, not NDJSON. The columns are --columns (dotted names reach into nested objects: \
        store.city), or else the keys of the first --window records in the order first seen; \
        a nested object or array is shown as compact JSON in one column. Numbers are \
        right-aligned, everything else left-aligned; null and missing values are empty; control \
        characters are escaped as in JSON (\\n, \\u001b), so no value can move the cursor or \
        change the terminal.

        The table is streamed: the first --window records (100) decide the columns and their \
        widths, then they and every later record are written at once with those widths; a \
        longer value later is cut to fit, ending in … (a number or a boolean is never cut: it \
        overflows its column instead). A key first seen after the window is \
        not shown (a note on standard error names the first one). Widths count display columns: \
        CJK characters and emoji take two, combining accents none.

        On a terminal the table is fitted to its width (COLUMNS, or the terminal's size; \
        --width N sets it), narrowing the widest columns first, and coloured: header bold, \
        numbers cyan, booleans yellow, arrays and objects dim. --color never, or NO_COLOR set \
        to anything but empty, turns colours off; --color always turns them on anywhere. \
        --max-width N caps every column. --markdown writes a GitHub Markdown table instead \
        (| escaped as \\|, numbers' columns aligned right), never cut nor coloured unless \
        --max-width asks for cuts. A record that is not an object is a bad record.
        """,
    options: [
        .value("columns", "NAMES", help: "The columns, comma-separated, in order (dotted names reach into nested objects); default the keys of the first records."),
        .value("max-width", "N", help: "The widest a column may be, in display columns (\(ParsedOptions.rangeText(widthRange))); longer values are cut with …."),
        .value("width", "N", help: "Fit the table into N columns (\(ParsedOptions.rangeText(widthRange)); 0 for no limit). Default: on a terminal its width, else no limit."),
        .value("window", "N", default: "100", help: "How many records decide the columns and widths (\(ParsedOptions.rangeText(windowRange))); they are held before the first line is written."),
        .flag("markdown", help: "Write a GitHub Markdown table."),
        .value("color", "WHEN", default: "auto", choices: ColorChoice.self, help: "Colours: \(ColorChoice.valuesText); auto colours a terminal unless NO_COLOR is set."),
    ],
    examples: [
        StageExample(
            "Columns from the keys, numbers right-aligned",
            command: "weir-to-table",
            input: "{\"sku\":\"A-1\",\"city\":\"Lyon\",\"stock\":3}\n{\"sku\":\"B-22\",\"city\":\"東京\",\"stock\":1250,\"tags\":[\"new\"]}\n",
            output: "sku   city  stock  tags\nA-1   Lyon      3\nB-22  東京   1250  [\"new\"]\n"),
        StageExample(
            "Chosen columns, long values cut",
            command: "weir-to-table --columns sku,store.city --max-width 8",
            input: "{\"sku\":\"A-1\",\"store\":{\"city\":\"Villeurbanne\"}}\n",
            output: "sku  store.c…\nA-1  Villeur…\n"),
        StageExample(
            "A Markdown table",
            command: "weir-to-table --markdown",
            input: "{\"name\":\"a|b\",\"n\":1.5}\n{\"name\":\"c\",\"n\":null}\n",
            output: "| name |   n |\n| ---- | --: |\n| a\\|b | 1.5 |\n| c    |     |\n"),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options
let columns = options.value("columns").map { text in
    switch CSVTableOptions.parseColumns(text) {
    case .success(let names): return names
    case .failure(let error): invocation.usageError("--columns: \(error.message)")
    }
}
let toStandardOutput = options.value("output") == nil
let terminalWidth: Int? = {
    guard toStandardOutput, SystemIO.isTerminal(SystemIO.standardOutput) else { return nil }
    if let text = SystemIO.environment("COLUMNS"), let width = Int(text), widthRange.contains(width) { return width }
    return SystemIO.terminalColumns(SystemIO.standardOutput)
}()
let explicitWidth = options.value("width").map { _ in invocation.integer("width", default: 0, range: 0...widthRange.upperBound) }
let colors = invocation.choice("color", default: ColorChoice.auto)
    .usesColor(outputIsTerminal: toStandardOutput && SystemIO.isTerminal(SystemIO.standardOutput))
let markdown = options.flag("markdown")
let style = TableStyle(
    markdown: markdown,
    colors: colors && !markdown,
    maxColumnWidth: options.value("max-width").map { _ in invocation.integer("max-width", default: 0, range: widthRange) },
    totalWidth: explicitWidth.map { $0 == 0 ? nil : $0 } ?? terminalWidth)
let window = invocation.integer("window", default: 100, range: windowRange)

/// Checks that each record is an object and passes it on compact, for the sink.
struct ObjectRecords: RecordTransform {
    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let start = output.count
        try RecordDecoding.compact(record, into: &output)
        guard output[start] == UInt8(ascii: "{") else {
            let kind = try RecordDecoding.parse(record).typeName
            throw RecordError("the record is \(kind == "array" ? "an" : "a") \(kind), not an object: weir-to-table shows objects (weir-map '{value: .}' makes one)", column: 1)
        }
        output.append(0x0A)
        return 1
    }
}

/// Lays the records out (``TableLayout``) in input order and writes the lines.
struct TableSink: OutputSink {
    var layout: TableLayout
    var target: OutputTarget? = nil
    var bytesWritten = 0
    var scratch: [UInt8] = []

    var reportsBytesWritten: Bool { true }

    mutating func begin(_ target: OutputTarget) throws(IOError) { self.target = target }

    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        scratch.removeAll(keepingCapacity: true)
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            // The workers wrote valid, compact objects.
            if case .object(let record)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])) {
                layout.add(record, into: &scratch)
            }
            lineStart = lineEnd + 1
        }
        try flush(to: target)
    }

    mutating func finish(_ target: OutputTarget) throws(IOError) {
        layout.finish(into: &scratch)
        try flush(to: target)
        if let key = layout.firstUnshownKey {
            SystemIO.printError("\(spec.executableName): note: key \(JSONWriter.string(.string(key))) is not shown: the columns come from the first \(layout.window == 1 ? "record" : "\(layout.window) records") (see --window and --columns)")
        }
    }

    /// A run that ends early (a bad record under --errors fail, a signal) still shows the
    /// records before it on standard output, as every stage does.
    mutating func abandon() {
        guard let target, !target.isAtomic else { return }
        layout.finish(into: &scratch)
        try? flush(to: target)
    }

    mutating func report(into report: inout SinkReport) {
        report.bytesWritten += bytesWritten
        bytesWritten = 0
    }

    private mutating func flush(to target: OutputTarget) throws(IOError) {
        guard !scratch.isEmpty else { return }
        try target.write(scratch)
        bytesWritten += scratch.count
        scratch.removeAll(keepingCapacity: true)
    }
}

await invocation.run(sink: TableSink(layout: TableLayout(columns: columns, style: style, window: window))) {
    ObjectRecords()
}
