/// The command-line options of every stage that writes CSV tables (`weir-to-csv`, and
/// `weir-split --format csv`), declared and read in one place.
package enum CSVTableCommandLine {
    /// The range of `--flatten-depth` (besides `all`): the JSON nesting limit.
    static let flattenDepthRange = 0...JSONParser.defaultMaxDepth

    /// The option names that only a CSV table uses (for a stage where they need `--format csv`).
    static let optionNames = ["columns", "new-keys", "flatten-depth", "quote-all"] + CSVDialectOptions.optionNames + ["crlf", "no-header"]

    /// The options, each help text after `helpPrefix` (`"With --format csv: "`); `--new-keys`
    /// offers `newKeys`.
    package static func options(newKeys: [CSVNewKeysPolicy], helpPrefix: String = "") -> [OptionSpec] {
        let choices = newKeys.map(\.rawValue)
        let newKeysHelp = choices.count == 3 ? "error, ignore, or append a column" : choices.joined(separator: " or ")
        func help(_ text: String) -> String {
            guard !helpPrefix.isEmpty, let first = text.first else { return text }
            return helpPrefix + first.lowercased() + text.dropFirst()
        }
        return [
            .value("columns", "NAMES", help: help("The columns, comma-separated, in order, each named once (dotted names reach into nested objects).")),
            .value("new-keys", "MODE", default: "error (ignore with --columns)", choices: choices, help: help("Keys that are not columns: \(newKeysHelp).")),
            .value("flatten-depth", "N", default: "all", help: help("Levels of nested objects flattened into dotted names, \(ParsedOptions.rangeText(flattenDepthRange)) or all; deeper objects are written as JSON text (0: none).")),
            .flag("quote-all", help: help("Quote every field.")),
        ] + CSVDialectOptions.options(tsvHelp: "Tab-separated output (the same as -d '\\t').", help: help) + [
            .flag("crlf", help: help("End rows with \\r\\n instead of \\n.")),
            .flag("no-header", help: help("Write no header row.")),
        ]
    }

    /// The CSV options given on the command line, by name.
    package static func given(in options: ParsedOptions) -> [String] {
        optionNames.filter { options.flag($0) || options.value($0) != nil }
    }

    /// Reads the options into table settings and the `--columns` list; problems are usage errors.
    package static func settings(from invocation: StageInvocation, newKeys: [CSVNewKeysPolicy]) -> (table: CSVTableOptions, columns: [String]?) {
        let options = invocation.options
        var table = CSVTableOptions()
        table.dialect = CSVDialectOptions.dialect(from: invocation)
        table.quoteAll = options.flag("quote-all")
        table.crlf = options.flag("crlf")
        table.header = !options.flag("no-header")
        if let depth = options.value("flatten-depth"), depth != "all" {
            table.flattenDepth = invocation.integer("flatten-depth", default: 0, range: flattenDepthRange)
        }
        let columns = options.value("columns").map { text in
            switch CSVTableOptions.parseColumns(text) {
            case .success(let names): return names
            case .failure(let error): invocation.usageError("--columns: \(error.message)")
            }
        }
        let policy = invocation.checked { () throws(UsageError) in
            try options.choice("new-keys", newKeys.map(\.rawValue), default: columns == nil ? "error" : "ignore")
        }
        table.newKeys = CSVNewKeysPolicy(rawValue: policy)!
        return (table, columns)
    }
}
