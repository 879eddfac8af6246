import WeirCore

/// The values `--skip` accepts: a preamble, not a way to drop most of a file (the skipped
/// lines are held in memory until the header is found).
let skipRange = 0...1_000_000

let spec = StageSpec(
    name: "from-csv",
    summary: "turn CSV into NDJSON, one object per row, losing nothing",
    description: """
        Reads CSV (RFC 4180) from each FILE in order and writes one JSON object per row, keyed \
        by the header row, like csvkit's csvjson or mlr --icsv --ojsonl cat, but streamed and \
        lossless. Quoted fields may hold delimiters, doubled quotes and line breaks; rows may \
        end in \\n, \\r\\n or a \\r alone (old Mac files, read as Miller, xsv and Python's csv \
        read them; inside quotes a \\r is data); a byte order mark is ignored, a last row \
        without a line break is still a row, and blank lines are skipped (write "" for an \
        empty value in a one-column file).

        A field becomes a JSON number only when its text already is one, written exactly as \
        it came: 13911860366432393 and 1.10 stay byte for byte, while 00742, +5, 1., 0x1F and \
        " 5" stay strings, and so do true and false unless --infer all. --types declares a \
        column's type instead (a value that does not fit is a bad record), --infer none keeps \
        every field a string, and --decimal-comma reads 2,50 as the number 2.50.

        Invalid UTF-8 is a bad record, never silently replaced (use --encoding for Latin-1, \
        Windows-1252 or UTF-16 files). So are a quote inside an unquoted field, text after a \
        closing quote, a quoted field still open at the end of the input, and a row whose \
        field count differs from the header's (see --ragged). Messages give the file, line \
        and column, and the row (the header is row 1) and field; --reject keeps the raw row.

        With --encoding utf-16, utf-16le or utf-16be, what the encoding cannot read is a bad \
        record too, the row that holds it, with the byte offset in the file: an unpaired \
        surrogate, a file that ends in the middle of a code unit, a byte order mark for the \
        other byte order than declared, and U+0A00, a line feed with its bytes swapped (the \
        file is in the other byte order). In the header or the --skip lines, it skips the file.
        """,
    options: CSVDialectOptions.options(tsvHelp: "Tab-separated input (the same as -d '\\t'); quoted fields still work.") + [
        .flag("sniff", help: "Guess each file's delimiter (, tab ; | :) from its first rows."),
        .value("encoding", "NAME", default: "utf-8", help: "The input's encoding: utf-8, latin1, windows-1252, utf-16 (by its byte order mark, else little-endian unless it starts 00 xx), utf-16le, utf-16be."),
        .flag("no-header", help: "The first row is data; columns are named 1, 2, …."),
        .value("columns", "NAMES", help: "Name the columns a,b,c; the first row is data (add --skip 1 to drop a header)."),
        .value("skip", "N", default: "0", help: "Skip N lines at the start of each file (a preamble) before the header, \(ParsedOptions.rangeText(skipRange))."),
        .value("ragged", "MODE", default: "error", choices: CSVRaggedPolicy.self, help: "Rows with too few or too many fields: error (a bad record), pad (missing fields empty, extra ones kept under their column numbers), truncate (missing fields empty, extra ones dropped)."),
        .value("types", "SPEC", help: "Declare column types, e.g. zip:string,price:number,active:bool,meta:json (also auto)."),
        .value("infer", "MODE", default: "numbers", choices: CSVInference.self, help: "Types of undeclared fields: numbers (canonical JSON numbers become numbers), none (all strings), all (numbers, and true/false become booleans)."),
        .flag("decimal-comma", help: "Read numbers with a decimal comma (2,50 is 2.50; then 2.50 stays a string)."),
        .value("empty", "MODE", default: "string", choices: CSVEmptyPolicy.self, help: "Empty fields become: string (\"\"), null, or omit (the key is left out)."),
        .value("filename", "FIELD", help: "Add the input file's name under FIELD (a column of that name is read as FIELD_2)."),
        .value("row", "FIELD", help: "Add the row number under FIELD, the header being row 1 (a column of that name is read as FIELD_2)."),
    ],
    examples: [
        StageExample(
            "Numbers only where the text already is one",
            command: "weir-from-csv",
            input: "sku,zip,price,qty\nA-1,00742,1.10,+5\n",
            output: "{\"sku\":\"A-1\",\"zip\":\"00742\",\"price\":1.10,\"qty\":\"+5\"}\n"),
        StageExample(
            "Quoted fields with delimiters, quotes and line breaks",
            command: "weir-from-csv",
            input: "id,note\n13911860366432393,\"Hello, \"\"world\"\"\nbye\"\n",
            output: "{\"id\":13911860366432393,\"note\":\"Hello, \\\"world\\\"\\nbye\"}\n"),
        StageExample(
            "Semicolons, decimal commas and declared types",
            command: "weir-from-csv -d ';' --decimal-comma --types zip:string,active:bool --row row",
            input: "zip;price;active\n742;2,50;yes\n",
            output: "{\"zip\":\"742\",\"price\":2.50,\"active\":true,\"row\":2}\n"),
    ],
    notes: [
        (title: "Rows, lines and blank lines", text: """
            Lines count every physical line of a file (preamble and blank lines included; a \
            line ends in \\n, \\r\\n or a \\r alone, quoted or not); rows \
            count its records (the header is row 1, blank lines do not count), so a row with a \
            quoted line break spans two lines. A blank line is skipped rather than read as a row \
            of one empty field; weir-to-csv writes "" for such a row, so the round trip holds.
            """),
        (title: "Round trip", text: """
            weir-from-csv | weir-to-csv gives back a well-formed CSV file field for field (quoting \
            may differ: weir-to-csv quotes only where needed).
            """),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options

var settings = CSVReadSettings()
CSVDialectOptions.checkConflicts(invocation)
if options.flag("sniff") && CSVDialectOptions.delimiterGiven(in: options) {
    invocation.usageError("--sniff guesses the delimiter: leave out --delimiter and --tsv")
}
settings.dialect = CSVDialectOptions.dialect(from: invocation)
settings.sniff = options.flag("sniff")
let encodingName = options.value("encoding") ?? "utf-8"
guard let encoding = CSVEncoding(label: encodingName) else {
    invocation.usageError("unknown encoding '\(encodingName)' (utf-8, latin1, windows-1252, utf-16, utf-16le, utf-16be)")
}
if encoding != .utf8 { settings.transcodedFrom = encoding }
if let columns = options.value("columns") {
    let names = columns.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    settings.header = .given(names)
} else if options.flag("no-header") {
    settings.header = .numbered
}
settings.skipLines = invocation.integer("skip", default: 0, range: skipRange)
settings.conversion.ragged = invocation.choice("ragged", default: CSVRaggedPolicy.error)
settings.conversion.inference = invocation.choice("infer", default: CSVInference.numbers)
settings.conversion.empty = invocation.choice("empty", default: CSVEmptyPolicy.string)
settings.conversion.decimalComma = options.flag("decimal-comma")
if let types = options.value("types") {
    switch CSVConversionOptions.parseTypes(types) {
    case .success(let declared): settings.conversion.declaredTypes = declared
    case .failure(let error): invocation.usageError("--types: \(error.message)")
    }
}
settings.conversion.filenameKey = options.value("filename")
settings.conversion.rowKey = options.value("row")
var givenColumns: [String]? = nil
if case .given(let names) = settings.header { givenColumns = names }
if let problem = settings.conversion.addedKeysProblem(columns: givenColumns) { invocation.usageError(problem) }

let conversion = settings.conversion
await invocation.runChunks(
    framer: CSVInputFramer(settings: settings),
    decoder: settings.transcodedFrom.map(CSVInputDecoder.init)
) {
    CSVToJSONTransform(options: conversion)
}
