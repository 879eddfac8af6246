/// Everything a user can read about a stage, declared once.
///
/// A stage's file opens with its `StageSpec`; ``HelpRenderer`` turns it into `--help` text
/// and the committed man page, so the two cannot drift, and a test runs every
/// ``StageExample`` so the documentation cannot rot.
package struct StageSpec: Sendable {
    /// The verb after `weir-`: `cat`, `from-csv`.
    package var name: String
    /// One line: what the stage does (starts with a verb, no final period).
    package var summary: String
    /// The operands after the options, e.g. `EXPR [FILE...]`.
    package var operands: String
    /// Paragraphs describing the stage (plain text; blank line between paragraphs).
    package var description: String
    /// The stage's own options; the common ones (``CommonOptions``) are added for it.
    package var options: [OptionSpec]
    /// Worked examples: each with input and the exact expected output.
    package var examples: [StageExample]
    /// What the stage reads: the runtime's source kind, stated in `--help` and the man page.
    package var input: StageInput
    /// Which common options apply (a generator stage has no `--errors` on input, say).
    package var commonOptions: [OptionSpec]
    /// Extra man page sections (title, text).
    package var notes: [(title: String, text: String)]
    /// True when arguments such as `-5` are operands (numbers), not options (`weir-seq -3 -1`).
    package var negativeNumbersAreOperands: Bool

    /// The executable's name, `weir-NAME`.
    package var executableName: String { "weir-\(name)" }

    package init(
        name: String,
        summary: String,
        operands: String = "[FILE...]",
        description: String,
        options: [OptionSpec] = [],
        examples: [StageExample] = [],
        input: StageInput = .files,
        commonOptions: [OptionSpec] = CommonOptions.all,
        notes: [(title: String, text: String)] = [],
        negativeNumbersAreOperands: Bool = false
    ) {
        self.name = name
        self.summary = summary
        self.operands = operands
        self.description = description
        self.options = options
        self.examples = examples
        self.input = input
        self.commonOptions = commonOptions
        self.notes = notes
        self.negativeNumbersAreOperands = negativeNumbersAreOperands
    }

    /// The stage's options followed by the common ones.
    package var allOptions: [OptionSpec] { options + commonOptions }
}

/// What a stage reads, declared in its ``StageSpec``: which ``RecordSource`` it runs on.
package enum StageInput: Sendable {
    /// The files named, one after another; none, or `-`, means standard input (``FileSequenceSource``).
    case files
    /// Nothing: the stage generates its records and never reads standard input (``GeneratedSource``).
    case none
    /// All the inputs named at once, each a file, FIFO or `<(…)` (``InterleavedSource``, ``MergedSource``).
    case several
    /// Standard input only: the operands are the stage's own (`weir-exec`'s command).
    case standardInput

    /// True when the operands are files to read (so a shell completes file names there).
    package var operandsAreFiles: Bool { self == .files || self == .several }

    /// One sentence for `--help` and the man page.
    package var summary: String {
        switch self {
        case .files: return "Input: the files named, in order; none, or -, means standard input. Gzip input (a .gz file, or gzip on standard input) is decompressed."
        case .none: return "Input: none; the stage generates its records and never reads standard input."
        case .several: return "Input: all the inputs named, read at the same time (files, FIFOs, <(...)); none, or -, means standard input. Gzip input is decompressed."
        case .standardInput: return "Input: standard input only (the operands are the command), gzip decompressed; use weir-cat FILE... | to read files."
        }
    }
}

/// One command-line option.
package struct OptionSpec: Sendable {
    /// The long name without dashes: `errors` for `--errors`.
    package var long: String
    /// The short letter, if any: `o` for `-o`.
    package var short: Character?
    /// The value's placeholder (`FILE`, `N`); nil for a flag.
    var valueName: String?
    /// The default, as shown in help (`fail`); nil when there is none worth showing.
    package var defaultValue: String?
    /// What the option does, one or two sentences.
    package var help: String
    /// True when the option may be given several times (values accumulate).
    package var repeatable: Bool
    /// How many values the option takes (2 for `--arg NAME VALUE`); 1 for value options.
    package var arity: Int
    /// The only values the option accepts (`fail`, `skip`, `reject`), or empty for any value.
    ///
    /// ``ParsedOptions`` refuses any other value, and the shell completions offer these, so
    /// what the help, the parser and the completions know cannot drift apart.
    package var choices: [String] = []

    /// An option that takes a value.
    package static func value(
        _ long: String, short: Character? = nil, _ valueName: String, default defaultValue: String? = nil,
        repeatable: Bool = false, arity: Int = 1, choices: [String] = [], help: String
    ) -> OptionSpec {
        OptionSpec(long: long, short: short, valueName: valueName, defaultValue: defaultValue, help: help, repeatable: repeatable, arity: arity, choices: choices)
    }

    /// An option whose value is one of an enumeration's raw values (`--ragged error|pad|truncate`).
    package static func value<Choice: RawRepresentable & CaseIterable>(
        _ long: String, short: Character? = nil, _ valueName: String, default defaultValue: String? = nil,
        choices: Choice.Type, help: String
    ) -> OptionSpec where Choice.RawValue == String {
        value(long, short: short, valueName, default: defaultValue, choices: Choice.allCases.map(\.rawValue), help: help)
    }

    /// An option without a value.
    package static func flag(_ long: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(long: long, short: short, valueName: nil, defaultValue: nil, help: help, repeatable: false, arity: 0)
    }

    /// What each of the option's values is, for completion: one entry per value (none for a flag).
    ///
    /// A value named `FILE` or `PATH` is a file, `DIR` a directory; a value with ``choices``
    /// is one of them; anything else is free text. `--slurpfile NAME FILE` has two values.
    package var valueKinds: [OptionValueKind] {
        guard let valueName else { return [] }
        let names = arity > 1 ? valueName.split(separator: " ").map(String.init) : [valueName]
        return (0..<arity).map { index in
            let name = index < names.count ? names[index] : names.last ?? "VALUE"
            if !choices.isEmpty { return .choice }
            switch name {
            case "FILE", "PATH": return .file
            case "DIR": return .directory
            default: return .text
            }
        }
    }

    /// True when the option takes no value.
    var isFlag: Bool { valueName == nil }

    /// `-o, --output FILE` as shown in help.
    package var usageText: String {
        var text = short.map { "-\($0), " } ?? "    "
        text += "--\(long)"
        if let valueName { text += " \(valueName)" }
        return text
    }
}

/// What an option's value is, for shell completion (see ``OptionSpec/valueKinds``).
package enum OptionValueKind: String, Sendable {
    /// A file name: completed from the file system.
    case file
    /// A directory name: completed from the file system, directories only.
    case directory
    /// One of the option's ``OptionSpec/choices``.
    case choice
    /// Free text (an expression, a number): nothing to complete.
    case text
}

/// A worked example: a command line, the input it reads, and the output it must print.
package struct StageExample: Sendable {
    /// What the example shows, one line.
    package var title: String
    /// The command line, starting with the executable name.
    package var command: String
    /// The standard input given to the command.
    package var input: String
    /// The exact standard output expected.
    package var output: String

    package init(_ title: String, command: String, input: String, output: String) {
        self.title = title
        self.command = command
        self.input = input
        self.output = output
    }
}

/// The options every stage shares (CONVENTIONS.md), implemented by the runtime.
package enum CommonOptions {
    /// The values `--jobs` accepts: more than the cores of any machine a stage runs on; each
    /// job is a worker task and raises the chunks held in flight (2 × jobs + 2).
    package static let jobsRange = 1...256
    /// The values `--max-line-bytes` accepts: a record the reader can still hold in memory,
    /// far from overflowing `Int` in any sum or product with it.
    static let maxLineBytesRange = 1...(1 << 30)
    package static let output = OptionSpec.value("output", short: "o", "FILE", help: "Write to FILE instead of standard output, atomically (a temporary file renamed at the end); a FILE ending in .gz is written gzip-compressed (zlib's default level 6, as gzip).")
    package static let jobs = OptionSpec.value("jobs", short: "j", "N", default: "number of cores", help: "Worker tasks for the per-record work, \(ParsedOptions.rangeText(jobsRange)). Output order never depends on N.")
    package static let errors = OptionSpec.value("errors", "MODE", default: "fail", choices: RuntimeConfiguration.ErrorPolicy.self, help: "What a bad record does: fail (stop, exit 1), skip (drop it, report on stderr, exit 0), reject (write it to the --reject file and go on).")
    package static let reject = OptionSpec.value("reject", "FILE", help: "Write each bad record to FILE as {\"file\",\"line\",\"error\",\"input\"}; implies --errors reject.")
    package static let quiet = OptionSpec.flag("quiet", short: "q", help: "With --errors skip, count bad records instead of reporting each one.")
    package static let maxLineBytes = OptionSpec.value("max-line-bytes", "N", default: "67108864", help: "The longest input record accepted, \(ParsedOptions.sizeRangeText(maxLineBytesRange)); a longer one is a bad record (suffixes K, M, G allowed).")
    package static let progress = OptionSpec.flag("progress", help: "Show records, bytes and rate on standard error while running.")
    package static let stats = OptionSpec.flag("stats", help: "At the end, print one JSON line of counts and elapsed time on standard error.")
    package static let help = OptionSpec.flag("help", short: "h", help: "Show this help and exit.")
    package static let version = OptionSpec.flag("version", help: "Show the version and exit.")

    /// All common options, in the order help lists them.
    package static let all: [OptionSpec] = [output, jobs, errors, reject, quiet, maxLineBytes, progress, stats, help, version]
}

/// The toolkit's version, printed by `--version`.
package let weirVersion = "0.1.0"
