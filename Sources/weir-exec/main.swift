import WeirCore

/// The values `--persistent` accepts.
let persistentRange = 1...256
/// The values `--max-output` accepts.
let maxOutputRange = 1...(1 << 30)
/// Records per chunk in persistent mode: each worker pipelines this many lines through its co-process.
let persistentBatch = 256

let spec = StageSpec(
    name: "exec",
    summary: "run a command for each record, with the record on its standard input",
    operands: "[--shell SCRIPT | -- COMMAND [ARG...]]",
    description: """
        Runs COMMAND once per record, like xargs -n 1 or GNU parallel --pipe -N 1, writing the \
        record as one JSON line to its standard input, and puts what it prints on standard \
        output at --as FIELD of the record (default output), or in place of the record with \
        --replace. The output must be one JSON value (whitespace around it allowed); with \
        --raw it is kept as a string instead, its last line end removed. Up to -c N commands \
        run at once (default twice the number of cores), and records keep their input order.

        COMMAND and its arguments are passed as given, with no shell: put them after -- so \
        that their options are not read as weir-exec's. --shell SCRIPT runs /bin/sh -c SCRIPT \
        instead, for pipes, redirections and variables. The command is looked up on PATH once \
        at the start; one that is not found is a usage error (exit 2).

        A command that exits with a status other than 0, is killed by a signal, runs longer \
        than --timeout (it is then killed: SIGTERM to its process group, SIGKILL a second \
        later), prints more than --max-output bytes, or prints output that is not JSON makes \
        its record bad (see --errors). The message and the reject entry give the exit status \
        or signal and the end of the command's standard error (its last 4 KiB; the message \
        shows the last 300 characters); the reject entry adds "exit_status" or "signal", \
        "timed_out" and "stderr". Standard error of commands that succeed is discarded. An \
        input line that is not JSON is bad without running anything.

        --persistent N starts N long-lived copies of COMMAND instead (co-processes), each of \
        which reads NDJSON lines on its standard input and must answer exactly one line per \
        line, in order, flushing each answer (a co-process's output to a pipe is usually \
        buffered: use python3 -u, sed -u, or flush in your code). Records go to them in \
        batches of \(persistentBatch) lines, written while the answers are read, so thousands \
        of records a second go through instead of a process per record. A co-process that \
        dies (its output ends), that gives no answer for --timeout, or that prints an answer \
        longer than --max-output, is ended and restarted, and the records it had not answered \
        are sent to the new one: the record it was answering is retried once, then bad. A \
        command that dies three times in a row without answering anything makes every later \
        record bad at once. Records are delivered at least once: one retried after a death \
        may have had effects in the co-process that died. --stats adds "restarts".

        Children are ended and reaped on every way out: at the end of input (a co-process's \
        input is closed, and it is killed if it has not exited 2 seconds later), when the \
        consumer goes away (| head -1), at the first bad record under --errors fail, and on \
        SIGINT or SIGTERM. Each child runs in a process group of its own, so the ending \
        reaches the commands a --shell SCRIPT starts too.
        """,
    options: [
        .value("concurrency", short: "c", "N", default: "2 × number of cores", help: "Commands running at once, \(ParsedOptions.rangeText(StageInvocation.concurrencyRange)); output keeps input order."),
        .value("persistent", "N", help: "Start N long-lived co-processes, \(ParsedOptions.rangeText(persistentRange)), that answer one line per input line, instead of a command per record."),
        .value("shell", "SCRIPT", help: "Run /bin/sh -c SCRIPT instead of COMMAND (pipes, redirections, variables)."),
        .value("as", "FIELD", default: "output", help: "Put the command's output at FIELD of the record (an object)."),
        .flag("replace", help: "Write the command's output instead of the record."),
        .flag("raw", help: "Keep the output as a string (its last line end removed) instead of parsing it as JSON."),
        .value("timeout", "DURATION", help: "Kill a command that runs longer than DURATION (10s, 500ms, 2m); with --persistent, a co-process that gives no answer for that long."),
        .value("max-output", "SIZE", default: "16M", help: "The most output kept from one command (or one answer line), \(ParsedOptions.sizeRangeText(maxOutputRange)); more is a bad record."),
    ],
    examples: [
        StageExample(
            "Add the output of a command as a string",
            command: "weir-exec --as up --raw -- tr a-z A-Z",
            input: "{\"sku\":\"a-1\"}\n{\"sku\":\"b-2\"}\n",
            output: "{\"sku\":\"a-1\",\"up\":\"{\\\"SKU\\\":\\\"A-1\\\"}\"}\n{\"sku\":\"b-2\",\"up\":\"{\\\"SKU\\\":\\\"B-2\\\"}\"}\n"),
        StageExample(
            "Replace each record by what a shell pipeline prints",
            command: "weir-exec --replace --shell 'wc -c | tr -d \" \"'",
            input: "{\"a\":1}\n{\"a\":100}\n",
            output: "8\n10\n"),
        StageExample(
            "Two co-processes, one answer line per record",
            command: "weir-exec --persistent 2 --replace -- sed -u 's/\"a\"/\"b\"/'",
            input: "{\"a\":1}\n{\"a\":2}\n",
            output: "{\"b\":1}\n{\"b\":2}\n"),
    ],
    input: .standardInput,
    // -c N (or --persistent N) is the number of workers: --jobs does not apply.
    commonOptions: CommonOptions.all.filter { $0.long != "jobs" }
)

var invocation = StageInvocation(spec)
let options = invocation.options
var words: [String] = []
while !invocation.operands.isEmpty { words.append(invocation.takeOperand("COMMAND")) }

// The command.
let command: ChildCommand
switch (options.value("shell"), words.isEmpty) {
case (let script?, true): command = .shell(script)
case (nil, false): command = ChildCommand(arguments: words)
case (_?, false): invocation.usageError("--shell SCRIPT and -- COMMAND are two commands: give one")
case (nil, true): invocation.usageError("missing COMMAND (after --) or --shell SCRIPT")
}
if command.locateProgram() == nil {
    invocation.usageError("cannot run '\(command.program)': no such executable\(command.program.contains("/") ? "" : " on PATH")")
}

// Where the output goes.
if options.flag("replace"), options.value("as") != nil { invocation.usageError("--replace and --as are two places for the output: give one") }
let placement = ExecPlacement(
    field: options.flag("replace") ? nil : options.value("as") ?? "output",
    raw: options.flag("raw"), command: command)
let timeout = invocation.duration("timeout", default: nil, range: 0.001...(365 * 86400))
let maxOutput = invocation.byteSize("max-output", default: 16 << 20, range: maxOutputRange)

if options.value("persistent") != nil {
    if options.value("concurrency") != nil { invocation.usageError("--persistent N is the concurrency: leave -c out") }
    let copies = invocation.integer("persistent", default: 1, range: persistentRange)
    let restarts = StageCounter("restarts")
    await invocation.runChunks(framer: LineFramer(maxRecords: persistentBatch), jobs: copies, counters: [restarts]) {
        ExecThroughCoProcess(placement: placement, coProcess: CoProcess(command: command, idleTimeout: timeout, outputLimit: maxOutput, restarts: restarts))
    }
}
let concurrency = invocation.integer("concurrency", default: min(2 * SystemIO.processorCount, StageInvocation.concurrencyRange.upperBound), range: StageInvocation.concurrencyRange)
await invocation.runConcurrently(concurrency: concurrency) {
    ExecPerRecord(placement: placement, timeout: timeout, maxOutput: maxOutput)
}

/// Puts a command's output where the options say: at a field of the record, or instead of it;
/// parsed as JSON, or as a string.
struct ExecPlacement: Sendable {
    /// `--as FIELD`, or nil for `--replace`.
    let field: String?
    /// `--raw`.
    let raw: Bool
    let command: ChildCommand

    /// Checks that the record is JSON before anything runs for it.
    func validate(_ record: UnsafeRawBufferPointer) throws(RecordError) {
        do throws(JSONError) { try JSONCompactor.validate(record) } catch { throw RecordError(error, in: record) }
    }

    /// Appends the record with its answer (the output, without its line end under `--raw`) as one line.
    func append(answer: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(RecordError) {
        let start = output.count
        if let field {
            let value: JSONValue = raw ? .string(String(decoding: answer, as: UTF8.self)) : try parsed(answer)
            try RecordDecoding.compact(record, into: &output)
            try ObjectEditing.setField(field, to: value, inCompactObjectFrom: start, of: &output)
        } else if raw {
            JSONWriter.writeString(String(decoding: answer, as: UTF8.self), into: &output)
        } else {
            do throws(JSONError) { try JSONCompactor.compact(answer, into: &output) } catch { throw invalidOutput(answer, error) }
        }
        output.append(0x0A)
    }

    private func parsed(_ answer: UnsafeRawBufferPointer) throws(RecordError) -> JSONValue {
        do throws(JSONError) { return try JSONParser.parse(answer) } catch { throw invalidOutput(answer, error) }
    }

    private func invalidOutput(_ answer: UnsafeRawBufferPointer, _ error: JSONError) -> RecordError {
        if answer.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return RecordError("\(command.displayName) printed nothing (expected one JSON value; --raw keeps text)")
        }
        var shown = String(decoding: answer.prefix(60), as: UTF8.self)
        shown = String(shown.map { $0.isNewline ? " " : $0 })
        while shown.last == " " { shown.removeLast() }
        if answer.count > 60 { shown += "…" }
        var problem = RecordError("\(command.displayName) printed output that is not JSON (\(error.message) at byte \(error.offset + 1); --raw keeps text): \(shown)")
        problem.details = [("output", .string(shown))]
        return problem
    }
}

extension RecordError {
    /// A command's failure as a bad record: the message names the command, how it ended and
    /// the end of its standard error; the details carry them for the reject entry.
    init(_ what: String, exit: ChildExit?, timedOut: Bool, errorTail: [UInt8], excerpt: String, attempts: Int? = nil) {
        self.init(excerpt.isEmpty ? what : "\(what); stderr: \(excerpt)")
        switch exit {
        case .exited(let status)?: details.append(("exit_status", .number(JSONNumber(literal: String(status)))))
        case .signaled(let number)?: details.append(("signal", .string(ChildExit.signalName(number))))
        default: break
        }
        if timedOut { details.append(("timed_out", .bool(true))) }
        if let attempts { details.append(("attempts", .number(JSONNumber(literal: String(attempts))))) }
        if !errorTail.isEmpty { details.append(("stderr", .string(String(decoding: errorTail, as: UTF8.self)))) }
    }
}

/// One command per record (`-c N` of them at once).
struct ExecPerRecord: AsyncRecordTransform {
    let placement: ExecPlacement
    let timeout: Double?
    let maxOutput: Int

    mutating func process(_ record: [UInt8], at position: RecordPosition, into output: inout [UInt8]) async throws(RecordError) -> Int {
        let checked: Result<Void, RecordError> = record.withUnsafeBytes { bytes in Result { () throws(RecordError) in try placement.validate(bytes) } }
        try checked.get()
        let command = placement.command
        let result: ChildResult
        do throws(ChildSpawnError) {
            result = try await ChildProcess.run(command, input: record + [0x0A], outputLimit: maxOutput, timeout: timeout)
        } catch {
            throw RecordError("\(error)")
        }
        let failure: String?
        if result.timedOut {
            failure = "\(command.displayName) ran longer than --timeout \(DurationText.text(timeout ?? 0)) and was killed"
        } else if !result.exit.isSuccess {
            failure = "\(command.displayName) \(result.exit)"
        } else if result.outputOverflowed {
            failure = "\(command.displayName) printed more than --max-output \(ParsedOptions.sizeText(maxOutput)) bytes"
        } else {
            failure = nil
        }
        if let failure {
            throw RecordError(failure, exit: result.exit, timedOut: result.timedOut, errorTail: result.errorTail, excerpt: result.errorExcerpt())
        }
        var answer = result.output[...]
        if placement.raw {
            if answer.last == 0x0A { answer.removeLast() }
            if answer.last == 0x0D { answer.removeLast() }
        }
        let placed: Result<Void, RecordError> = answer.withUnsafeBytes { answerBytes in
            record.withUnsafeBytes { recordBytes in
                Result { () throws(RecordError) in try placement.append(answer: answerBytes, record: recordBytes, into: &output) }
            }
        }
        try placed.get()
        return 1
    }
}

/// A batch of records through this worker's co-process (`--persistent N`: N workers).
struct ExecThroughCoProcess: ChunkTransform {
    let placement: ExecPlacement
    var coProcess: CoProcess

    mutating func process(_ chunk: InputChunk<NoFileContext>, into output: inout ChunkOutput) async {
        let lines = LineCounter.lineRanges(chunk.bytes)
        // Records that are JSON go to the co-process; the others are reported in their place.
        var invalid: [Int: RecordError] = [:]
        var sent: [ArraySlice<UInt8>] = []
        sent.reserveCapacity(lines.count)
        chunk.bytes.withUnsafeBytes { bytes in
            for (index, range) in lines.enumerated() {
                guard let range, range.count <= output.maxRecordBytes else { continue }
                do throws(RecordError) {
                    try placement.validate(UnsafeRawBufferPointer(rebasing: bytes[range]))
                    sent.append(chunk.bytes[range])
                } catch {
                    invalid[index] = error
                }
            }
        }
        let answers = sent.isEmpty ? CoProcessAnswers() : await coProcess.answers(to: sent)
        var answerIndex = 0
        var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, inputIndex: chunk.inputIndex)
        chunk.bytes.withUnsafeBytes { bytes in
            answers.bytes.withUnsafeBytes { answerBytes in
                for (index, range) in lines.enumerated() {
                    guard let range else { continue }
                    position.line = chunk.firstLine + index
                    let record = UnsafeRawBufferPointer(rebasing: bytes[range])
                    output.recordsRead += 1
                    if range.count > output.maxRecordBytes {
                        if output.reportOversized(at: position, input: record) { continue } else { return }
                    }
                    let mark = output.bytes.count
                    do throws(RecordError) {
                        if let error = invalid[index] { throw error }
                        let answer = answers.answers[answerIndex]
                        answerIndex += 1
                        switch answer {
                        case .success(let answerRange):
                            try placement.append(answer: UnsafeRawBufferPointer(rebasing: answerBytes[answerRange]), record: record, into: &output.bytes)
                            output.recordsWritten += 1
                        case .failure(let failure):
                            var excerpt = ChildResult.errorExcerpt(failure.errorTail)
                            if failure.reason == "was stopped" { excerpt = "" }
                            throw RecordError(
                                "co-process \(failure.command.displayName) \(failure.reason)\(failure.attempts > 1 ? " (tried \(failure.attempts) times)" : "")",
                                exit: failure.exit, timedOut: failure.timedOut, errorTail: failure.errorTail, excerpt: excerpt, attempts: failure.attempts)
                        }
                    } catch {
                        output.bytes.removeSubrange(mark...)
                        if !output.report(error, at: position, input: record) { return }
                    }
                }
            }
        }
    }

    mutating func merge(_ other: consuming ExecThroughCoProcess) {
        coProcess.adopt(other.coProcess)
    }

    mutating func finish(into output: inout ChunkOutput) async {
        await coProcess.finish()
    }
}
