/// One run of a stage from the command line: its parsed options, its operands, and the
/// runtime configured by the common options.
///
/// Creating it handles what every stage shares: `--help`, `--version`, `--man` (prints the
/// man page the repository commits), `--spec` (``StageDescription``, for the front door and
/// the completions), and usage errors (message, hint, exit status 2).
package struct StageInvocation: Sendable {
    /// The stage's declaration.
    package let spec: StageSpec
    /// All parsed options.
    package let options: ParsedOptions
    /// Operands not yet taken by the stage (what remains are input files).
    package private(set) var operands: [String]

    /// Parses the process's arguments, handling help, version and usage errors (which exit).
    package init(_ spec: StageSpec, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.spec = spec
        let hiddenOptions = [
            OptionSpec.flag("man", help: "Print the man page (roff) and exit."),
            OptionSpec.flag("examples", help: "Print the help examples as JSON lines (for the tests) and exit."),
            OptionSpec.flag("spec", help: "Print the command line's description as one JSON object (for the weir front door and completions) and exit."),
        ]
        let closed = SystemIO.guardStandardDescriptors()
        SystemIO.standardInputIsOpen = !closed.inputClosed
        SystemIO.standardOutputIsOpen = !closed.outputClosed
        do throws(UsageError) {
            options = try ParsedOptions(arguments: arguments, options: spec.allOptions + hiddenOptions, negativeNumbersAreOperands: spec.negativeNumbersAreOperands)
        } catch {
            StageInvocation.exitWithUsageError(error.message, executableName: spec.executableName)
        }
        operands = options.operands
        if options.flag("help") {
            SystemIO.printOutput(HelpRenderer.helpText(spec))
            SystemIO.exitNow(0)
        }
        if options.flag("version") {
            SystemIO.printOutput("\(spec.executableName) \(weirVersion)\n")
            SystemIO.exitNow(0)
        }
        if options.flag("man") {
            SystemIO.printOutput(HelpRenderer.manPage(spec))
            SystemIO.exitNow(0)
        }
        if options.flag("spec") {
            SystemIO.printOutput(JSONWriter.string(StageDescription(spec).json) + "\n")
            SystemIO.exitNow(0)
        }
        if options.flag("examples") {
            for example in spec.examples {
                let entry = JSONValue.object(JSONObject([
                    ("title", .string(example.title)), ("command", .string(example.command)),
                    ("input", .string(example.input)), ("output", .string(example.output)),
                ]))
                SystemIO.printOutput(JSONWriter.string(entry) + "\n")
            }
            SystemIO.exitNow(0)
        }
    }

    /// Takes the first operand (e.g. the expression); a usage error when there is none.
    package mutating func takeOperand(_ name: String) -> String {
        guard !operands.isEmpty else { usageError("missing \(name)") }
        return operands.removeFirst()
    }

    /// Reports a usage error and exits with status 2.
    package func usageError(_ message: String) -> Never {
        StageInvocation.exitWithUsageError(message, executableName: spec.executableName)
    }

    /// Ends the stage before its run with a data error: prints `message` (a whole line,
    /// `weir-NAME: FILE:LINE:COL: what is wrong`) on standard error and exits with status 1.
    /// For input a stage reads before the run (the lookup file of `weir-join`): bad data
    /// there is not a usage error (status 2), and nothing has been written yet.
    package func failBeforeRun(_ message: String) -> Never {
        SystemIO.printError(message)
        SystemIO.exitNow(1)
    }

    /// Runs `body`, turning a thrown ``UsageError`` into a usage error exit.
    package func checked<T>(_ body: () throws(UsageError) -> T) -> T {
        do throws(UsageError) { return try body() } catch { usageError(error.message) }
    }

    /// The value of option `name` as one of an enum's cases (by raw value); a usage error otherwise.
    package func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: Choice) -> Choice where Choice.RawValue == String {
        let text = checked { () throws(UsageError) in
            try options.choice(name, Choice.allCases.map(\.rawValue), default: defaultValue.rawValue)
        }
        return Choice(rawValue: text)!
    }

    /// The value of option `name` as a whole number in `range` (stated in its help); a usage error otherwise.
    package func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        checked { () throws(UsageError) in try options.integer(name, default: defaultValue, range: range) }
    }

    /// The value of option `name` as a byte size in `range` (stated in its help); a usage error otherwise.
    package func byteSize(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        checked { () throws(UsageError) in try options.byteSize(name, default: defaultValue, range: range) }
    }

    private static func exitWithUsageError(_ message: String, executableName: String) -> Never {
        SystemIO.printError("\(executableName): \(message)\nTry '\(executableName) --help' for more information.")
        SystemIO.exitNow(2)
    }

    /// The runtime configuration from the common options; input files are the remaining operands.
    package var configuration: RuntimeConfiguration {
        checked { () throws(UsageError) in
            var configuration = RuntimeConfiguration()
            if spec.input == .none, let extra = operands.first {
                throw UsageError("unexpected operand '\(extra)' (\(spec.executableName) reads no input)")
            }
            configuration.inputPaths = operands
            configuration.outputPath = options.value("output")
            let jobsRange = CommonOptions.jobsRange
            configuration.jobs = try options.integer("jobs", default: min(max(SystemIO.processorCount, 1), jobsRange.upperBound), range: jobsRange)
            configuration.rejectPath = options.value("reject")
            let policy = try options.choice("errors", CommonOptions.errors.choices, default: configuration.rejectPath == nil ? "fail" : "reject")
            configuration.errorPolicy = RuntimeConfiguration.ErrorPolicy(rawValue: policy)!
            if configuration.errorPolicy == .reject, configuration.rejectPath == nil {
                throw UsageError("--errors reject needs --reject FILE")
            }
            if configuration.rejectPath != nil, configuration.errorPolicy != .reject {
                throw UsageError("--reject FILE goes with --errors reject (or leave --errors out)")
            }
            configuration.quiet = options.flag("quiet")
            configuration.maxRecordBytes = try options.byteSize("max-line-bytes", default: 64 << 20, range: CommonOptions.maxLineBytesRange)
            configuration.showProgress = options.flag("progress")
            configuration.printStats = options.flag("stats")
            return configuration
        }
    }

    /// Checks that no output (`-o`, `--reject`) is the same file as an input or as each
    /// other (same device and inode, or the same path before either exists): writing it
    /// would destroy the input. Devices such as `/dev/null` may be shared.
    private static func checkOutputsAreDistinct(_ configuration: RuntimeConfiguration) throws(UsageError) {
        let outputs = [("-o", configuration.outputPath), ("--reject", configuration.rejectPath)].compactMap { name, path in path.map { (name, $0) } }
        for (name, path) in outputs where path != "-" {
            guard let output = SystemIO.fileIdentity(path) else { continue }
            guard output.isRegular else { continue }
            for input in configuration.inputPaths where input != "-" {
                if SystemIO.fileIdentity(input) == output {
                    throw UsageError("\(name) '\(path)' is the input file '\(input)': writing it would destroy the input")
                }
            }
        }
        if let output = configuration.outputPath, let reject = configuration.rejectPath, output != "-", reject != "-" {
            let sameFile: Bool
            if let left = SystemIO.fileIdentity(output), let right = SystemIO.fileIdentity(reject) {
                sameFile = left == right && left.isRegular
            } else {
                sameFile = SystemIO.resolveSymbolicLinks(output) == SystemIO.resolveSymbolicLinks(reject)
            }
            if sameFile { throw UsageError("-o '\(output)' and --reject '\(reject)' are the same file") }
        }
    }

    /// The configuration, checked (distinct outputs); a usage error otherwise.
    var checkedConfiguration: RuntimeConfiguration {
        let configuration = self.configuration
        checked { () throws(UsageError) in try Self.checkOutputsAreDistinct(configuration) }
        return configuration
    }

    /// Runs a per-record stage over NDJSON lines (or `framer`'s records) of the input files, in
    /// order. A stage that wants chunks of a few records (a fetch stage wants a few dozen
    /// requests per chunk) passes `LineFramer(maxRecords: N)`.
    package func run<Transform: RecordTransform, Framer: RecordFramer, Sink: OutputSink>(
        framer: Framer = LineFramer(),
        decoder: (any InputDecoder)? = nil,
        sink: Sink = PassThroughSink(),
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never {
        let configuration = checkedConfiguration
        let source = FileSequenceSource(paths: configuration.inputPaths, framer: framer, decoder: decoder, maxRecordBytes: configuration.maxRecordBytes)
        await run(source: source, sink: sink, configuration: configuration) { RecordChunkTransform<Transform, Framer.Context>(makeTransform()) }
    }

    /// Runs a per-record stage over the NDJSON lines of the input files, as
    /// ``run(framer:decoder:sink:makeTransform:)`` does, and lets the stage amend the outcome
    /// before the process ends: for a usage-level problem only the data can reveal (a
    /// `weir-stats --merge` input made with other options: status 2).
    package func run<Transform: RecordTransform, Sink: OutputSink>(
        sink: Sink,
        amendingOutcome amend: (inout RunOutcome) -> Void,
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never {
        let configuration = checkedConfiguration
        let source = FileSequenceSource(paths: configuration.inputPaths, framer: LineFramer(), decoder: nil, maxRecordBytes: configuration.maxRecordBytes)
        let runtime = StageRuntime(configuration: configuration, executableName: spec.executableName)
        var outcome = await runtime.run(source: source, sink: sink) { RecordChunkTransform<Transform, LineFramer.Context>(makeTransform()) }
        amend(&outcome)
        Self.exit(with: outcome)
    }

    /// Runs a stage that works on whole chunks (CSV parsing, batched I/O) of the input files.
    /// `jobs` overrides `--jobs` for a stage whose workers each own something (`weir-exec
    /// --persistent N`: one co-process per worker); `counters` are the stage's own counts,
    /// for `--progress` and `--stats`.
    package func runChunks<Transform: ChunkTransform, Framer: RecordFramer, Sink: OutputSink>(
        framer: Framer,
        decoder: (any InputDecoder)? = nil,
        jobs: Int? = nil,
        counters: [StageCounter] = [],
        sink: Sink = PassThroughSink(),
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never where Transform.Context == Framer.Context {
        var configuration = checkedConfiguration
        if let jobs { configuration.jobs = min(max(jobs, 1), Self.concurrencyRange.upperBound) }
        configuration.counters += counters
        let source = FileSequenceSource(paths: configuration.inputPaths, framer: framer, decoder: decoder, maxRecordBytes: configuration.maxRecordBytes)
        await run(source: source, sink: sink, configuration: configuration, makeTransform: makeTransform)
    }

    /// Runs a per-record stage over another kind of source (generated, interleaved, merged).
    package func run<Source: RecordSource, Transform: RecordTransform, Sink: OutputSink>(
        source: Source,
        sink: Sink = PassThroughSink(),
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never {
        await run(source: source, sink: sink, configuration: checkedConfiguration) { RecordChunkTransform<Transform, Source.Context>(makeTransform()) }
    }

    /// Runs a stage that works on whole chunks over another kind of source (a generator whose
    /// lines need no per-record work, say).
    package func runChunks<Source: RecordSource, Transform: ChunkTransform, Sink: OutputSink>(
        source: Source,
        sink: Sink = PassThroughSink(),
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never where Transform.Context == Source.Context {
        await run(source: source, sink: sink, configuration: checkedConfiguration, makeTransform: makeTransform)
    }

    /// Runs the flow and ends the process with its outcome: the one exit of every stage.
    private func run<Source: RecordSource, Transform: ChunkTransform, Sink: OutputSink>(
        source: Source, sink: Sink, configuration: RuntimeConfiguration,
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never where Transform.Context == Source.Context {
        let runtime = StageRuntime(configuration: configuration, executableName: spec.executableName)
        let outcome = await runtime.run(source: source, sink: sink, makeTransform: makeTransform)
        Self.exit(with: outcome)
    }

    /// Ends the process as `outcome` says: its status, or its signal's default action.
    /// Child processes still running (``ChildRegistry``) are ended and reaped first, so
    /// none outlives the stage, whichever way the run ended.
    package static func exit(with outcome: RunOutcome) -> Never {
        ChildRegistry.terminateAll()
        if let signal = outcome.signal { SignalStop.endBySignal(signal) }
        SystemIO.exitNow(outcome.status)
    }
}

extension SystemIO {
    /// Writes text to standard output, ignoring a closed pipe.
    package static func printOutput(_ text: String) {
        _ = try? writeAll(standardOutput, Array(text.utf8), name: "<stdout>")
    }
}
