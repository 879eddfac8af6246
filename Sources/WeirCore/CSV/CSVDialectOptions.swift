/// The CSV dialect options of every stage that reads or writes CSV (`weir-from-csv`,
/// `weir-to-csv`, `weir-split --format csv`): `-d/--delimiter`, `--tsv` and `--quote`,
/// declared, read and checked in one place.
package enum CSVDialectOptions {
    /// The option names, in the order they are declared.
    static let optionNames = ["delimiter", "tsv", "quote"]

    /// The options; `tsvHelp` says what `--tsv` means for the stage, and `help` rewrites
    /// each help text (a stage's prefix such as `"With --format csv: "`).
    package static func options(tsvHelp: String, help: (String) -> String = { $0 }) -> [OptionSpec] {
        [
            .value("delimiter", short: "d", "CHAR", default: ",", help: help("The field delimiter: one ASCII character, or \\t, tab, comma, semicolon, pipe, space.")),
            .flag("tsv", help: help(tsvHelp)),
            .value("quote", "CHAR", default: "\"", help: help("The quote character.")),
        ]
    }

    /// True when the delimiter was chosen (`--delimiter` or `--tsv`).
    package static func delimiterGiven(in options: ParsedOptions) -> Bool {
        options.flag("tsv") || options.value("delimiter") != nil
    }

    /// A usage error when `--tsv` and `--delimiter` are both given.
    package static func checkConflicts(_ invocation: StageInvocation) {
        let options = invocation.options
        if options.flag("tsv") && options.value("delimiter") != nil { invocation.usageError("--tsv and --delimiter do not go together") }
    }

    /// The dialect the options give (comma and double quote by default); any problem is a
    /// usage error.
    package static func dialect(from invocation: StageInvocation) -> CSVDialect {
        checkConflicts(invocation)
        let dialect = CSVDialect(delimiter: invocation.options.flag("tsv") ? 0x09 : invocation.csvCharacter("delimiter", default: UInt8(ascii: ",")),
                                 quote: invocation.csvCharacter("quote", default: UInt8(ascii: "\"")))
        if let problem = dialect.validate() { invocation.usageError(problem) }
        return dialect
    }
}
