import WeirCore

/// The values `--flatten-depth` accepts besides `all`: no record nests deeper than the JSON
/// parser allows, so a larger depth would mean all.

let spec = StageSpec(
    name: "to-csv",
    summary: "turn NDJSON records into CSV rows under one header",
    description: """
        Reads NDJSON objects from each FILE in order and writes them as CSV (RFC 4180), one row \
        per record, like mlr --ijsonl --ocsv cat. The columns are --columns, or else the keys of \
        the first record; a missing key or a null leaves its field empty. Nested objects become \
        dotted columns (store.geo.lat) down to --flatten-depth levels; arrays and anything \
        deeper are written as compact JSON text. Strings are written as their text, numbers as \
        their literal (13911860366432393 and 1.10 unchanged), booleans as true and false.

        A column holds the value at its dotted name, whatever it is in a given record: an \
        object under a column of its own name (--columns user, or a user column that an \
        earlier null or scalar made) is written there whole as JSON text, its members being \
        no new keys. Where an object made columns (user.id, user.name), a later null or {} \
        leaves them empty, while a string, number, boolean or array is a key that is not a \
        column (see --new-keys), and the message says what it was and what it is now.

        Fields are quoted only when they must be (they hold the delimiter, a quote, a line \
        break, or start or end with a space or tab), or always with --quote-all. A one-column \
        row whose field is empty is written as "" so that it is not read back as a blank line.

        A key that is not a column follows --new-keys: error (the default without --columns: \
        a bad record, see --errors), ignore (the default with --columns: the value is left \
        out) or append (a new column on the right). Appending on standard output, the new \
        column is noted on standard error, since the header written before cannot change and \
        earlier rows have fewer fields; with -o FILE, the file is written at the end with the \
        final header and every row padded, still in one pass over the input. A record that \
        is not a valid JSON object, or whose dotted keys collide, is a bad record.
        """,
    options: CSVTableCommandLine.options(newKeys: CSVNewKeysPolicy.allCases),
    examples: [
        StageExample(
            "Nested objects become dotted columns, arrays JSON text",
            command: "weir-to-csv",
            input: "{\"sku\":\"A-1\",\"store\":{\"city\":\"Zürich\",\"geo\":{\"lat\":47.37}},\"tags\":[\"new\",\"sale\"],\"price\":1.10,\"note\":null}\n{\"sku\":\"B, 2\",\"price\":13911860366432393}\n",
            output: "sku,store.city,store.geo.lat,tags,price,note\nA-1,Zürich,47.37,\"[\"\"new\"\",\"\"sale\"\"]\",1.10,\n\"B, 2\",,,,13911860366432393,\n"),
        StageExample(
            "Chosen columns, semicolons",
            command: "weir-to-csv --columns sku,store.city -d ';'",
            input: "{\"sku\":\"A-1\",\"store\":{\"city\":\"Genève\"},\"qty\":3}\n",
            output: "sku;store.city\nA-1;Genève\n"),
        StageExample(
            "Keys that appear later become new columns",
            command: "weir-to-csv --new-keys append",
            input: "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n",
            output: "a\n1\n2,x\n"),
    ],
    notes: [
        (title: "Round trip", text: """
            weir-from-csv | weir-to-csv gives back a well-formed CSV file field for field, modulo \
            quoting style; weir-to-csv | weir-from-csv gives back records whose values are strings \
            and canonical numbers (what CSV can carry), with nested objects as dotted keys.
            """),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options

let (tableOptions, columns) = CSVTableCommandLine.settings(from: invocation, newKeys: CSVNewKeysPolicy.allCases)
if tableOptions.newKeys == .append {
    // Only the sequential sink sees keys in order: workers validate, the sink writes rows.
    // Into a file, the rows are spilled and the file written at the end with the final header.
    let spillPath = options.value("output").map(CSVTableSink.spillPath(forOutput:))
    await invocation.run(sink: CSVTableSink(options: tableOptions, columns: columns, appending: true, spillPath: spillPath,
                                            executableName: spec.executableName)) {
        CSVValidatingTransform(options: tableOptions)
    }
} else {
    await invocation.runChunks(
        framer: CSVColumnsFramer(columns: columns, flattenDepth: tableOptions.flattenDepth),
        sink: CSVTableSink(options: tableOptions, columns: columns, appending: false, executableName: spec.executableName)
    ) {
        CSVRowTransform(options: tableOptions)
    }
}
