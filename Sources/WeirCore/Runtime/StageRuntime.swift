import Glibc

/// Runs a stage: reads, transforms in parallel, and writes in order, with bounded memory.
///
/// ```
///                       permits (AsyncSemaphore: chunks in flight ≤ 2·jobs + 2)
///          ┌───────────────────────────────────────────────────────────────────┐
///          ▼                                                                   │ release
///   files ─▶ InputReader ─chunks─▶ AsyncQueue ─▶ worker × jobs ─▶ OrderedResults ─▶ writer ─▶ stdout / -o FILE
///           (read(2), framer)                   (ChunkTransform)  (sequence order)  (OutputSink,
///                                                                                    error policy,
///                                                                                    reject file)
/// ```
///
/// One task group owns the reader and the workers; the writer runs in the group's body.
/// The writer ends the process itself (``SystemIO/exitNow(_:)``) once the outcome is known:
/// after the last chunk, at the first bad record under `--errors fail`, or quietly when the
/// reader of standard output has gone away (`EPIPE`, as in `… | head -1`), so a reader
/// blocked on a slow input never holds the stage up.
package struct StageRuntime: Sendable {
    /// The configuration from the common options.
    package var configuration: RuntimeConfiguration
    /// The stage's executable name, for messages (`weir-cat`).
    package var executableName: String

    package init(configuration: RuntimeConfiguration, executableName: String) {
        self.configuration = configuration
        self.executableName = executableName
    }

    /// Runs the stage to completion and ends the process with the right exit status.
    package func run<Framer: RecordFramer, Transform: ChunkTransform, Sink: OutputSink>(
        framer: Framer,
        decoder: (any InputDecoder)? = nil,
        sink: Sink,
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never {
        signal(SIGPIPE, SIG_IGN)
        SystemIO.enlargePipeBuffer(SystemIO.standardInput)
        SystemIO.enlargePipeBuffer(SystemIO.standardOutput)
        let configuration = self.configuration
        var writer: OrderedWriter<Sink>
        do throws(IOError) {
            writer = try OrderedWriter(configuration: configuration, executableName: executableName, sink: sink)
        } catch {
            SystemIO.printError("\(executableName): \(error)")
            SystemIO.exitNow(1)
        }
        let queue = AsyncQueue<InputChunk>()
        let results = OrderedResults<ChunkOutput>()
        let permits = AsyncSemaphore(permits: configuration.jobs * 2 + 2)
        let reader = InputReader(paths: configuration.inputPaths, maxRecordBytes: configuration.maxRecordBytes)
        let stopsAtFirstProblem = configuration.errorPolicy == .fail
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let total = await reader.run(framer: framer, decoder: decoder, permits: permits) { queue.send($0) }
                queue.finish()
                results.finish(total: total)
            }
            for _ in 0..<configuration.jobs {
                group.addTask {
                    var transform = makeTransform()
                    while let chunk = await queue.receive() {
                        var output = ChunkOutput(
                            sequence: chunk.sequence, stopsAtFirstProblem: stopsAtFirstProblem,
                            inputByteCount: chunk.inputByteCount, maxRecordBytes: configuration.maxRecordBytes)
                        if let problem = chunk.readerProblem {
                            if !problem.isFatal { output.recordsRead = 1 }
                            output.problems.append(problem)
                        } else {
                            await transform.process(chunk, into: &output)
                        }
                        results.deliver(chunk.sequence, output)
                    }
                }
            }
            while let output = await results.next() {
                writer.consume(output)
                permits.release()
            }
            writer.finish()
        }
        fatalError("unreachable: the writer ends the process")
    }
}

/// What the common options say about a run.
package struct RuntimeConfiguration: Sendable {
    /// What a bad record does.
    package enum ErrorPolicy: String, Sendable { case fail, skip, reject }

    /// Input files in order (`-` is standard input); empty means standard input.
    package var inputPaths: [String] = []
    /// `-o FILE`, or nil for standard output.
    package var outputPath: String? = nil
    /// Worker tasks.
    package var jobs: Int = SystemIO.processorCount
    /// `--errors`.
    package var errorPolicy: ErrorPolicy = .fail
    /// `--reject FILE`.
    package var rejectPath: String? = nil
    /// `-q`: count skipped records instead of reporting each.
    package var quiet = false
    /// `--max-line-bytes`.
    package var maxRecordBytes = 64 << 20
    /// `--progress`.
    package var showProgress = false
    /// `--stats`.
    package var printStats = false

    package init() {}
}

/// The writer: applies the error policy, writes output in order, keeps counts, reports.
struct OrderedWriter<Sink: OutputSink> {
    private let configuration: RuntimeConfiguration
    private let executableName: String
    private var sink: Sink
    private let output: OutputTarget
    private let rejects: RejectWriter?
    private var progress: ProgressReporter?
    private let startTime = SystemIO.monotonicSeconds()
    private var counts = RunCounts()
    private var inputFailed = false

    init(configuration: RuntimeConfiguration, executableName: String, sink: Sink) throws(IOError) {
        self.configuration = configuration
        self.executableName = executableName
        self.sink = sink
        output = try configuration.outputPath.map { (path) throws(IOError) in try OutputTarget(atomicFile: path) } ?? OutputTarget()
        rejects = try configuration.rejectPath.map { (path) throws(IOError) in try RejectWriter(path: path) }
        if configuration.showProgress {
            progress = ProgressReporter(executableName: executableName, totalBytes: ProgressReporter.totalSize(of: configuration.inputPaths))
        }
        do throws(IOError) { try self.sink.begin(output) } catch { self.fail(error) }
    }

    /// Writes one chunk's output, handling its problems in place.
    mutating func consume(_ chunk: ChunkOutput) {
        counts.read += chunk.recordsRead
        counts.written += chunk.recordsWritten
        counts.dropped += chunk.recordsDropped
        counts.bytesRead += chunk.inputByteCount
        chunk.bytes.withUnsafeBytes { bytes in
            var written = 0
            for problem in chunk.problems {
                write(UnsafeRawBufferPointer(rebasing: bytes[written..<problem.outputOffset]))
                written = problem.outputOffset
                handle(problem)
            }
            write(UnsafeRawBufferPointer(rebasing: bytes[written...]))
        }
        progress?.update(counts, final: false)
    }

    /// Ends a run that read all its input: flush, put files in place, report, exit.
    mutating func finish() -> Never {
        do throws(IOError) {
            try sink.finish(output)
            try output.commit()
            try rejects?.commit()
        } catch {
            fail(error)
        }
        progress?.update(counts, final: true)
        if counts.bad > 0 {
            switch configuration.errorPolicy {
            case .skip: SystemIO.printError("\(executableName): skipped \(counts.bad) bad record\(counts.bad == 1 ? "" : "s")")
            case .reject: SystemIO.printError("\(executableName): rejected \(counts.bad) bad record\(counts.bad == 1 ? "" : "s") to \(rejects?.name ?? "the reject file")")
            case .fail: break
            }
        }
        printStats()
        SystemIO.exitNow(inputFailed ? 1 : 0)
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        do throws(IOError) {
            try sink.write(bytes, to: output)
            counts.bytesWritten += bytes.count
        } catch {
            fail(error)
        }
    }

    private mutating func handle(_ problem: RecordProblem) {
        if problem.isFatal {
            SystemIO.printError("\(executableName): \(problem.message)")
            inputFailed = true
            return
        }
        counts.bad += 1
        switch configuration.errorPolicy {
        case .fail:
            SystemIO.printError(ProblemReport.message(for: problem, executableName: executableName))
            end(status: 1)
        case .skip:
            if !configuration.quiet { SystemIO.printError(ProblemReport.message(for: problem, executableName: executableName)) }
        case .reject:
            do throws(IOError) { try rejects?.write(problem) } catch { fail(error) }
        }
    }

    /// Ends the run after a fatal error: flushes what is good, keeps no half-written file.
    private func end(status: Int32) -> Never {
        try? rejects?.flush()
        output.abandon()
        if rejects != nil { try? rejects?.commit() }
        printStats()
        SystemIO.exitNow(status)
    }

    /// Handles an output error: quiet success when the consumer went away, else exit 1.
    private func fail(_ error: IOError) -> Never {
        if error.isBrokenPipe {
            try? rejects?.commit()
            SystemIO.exitNow(0)
        }
        SystemIO.printError("\(executableName): \(error)")
        end(status: 1)
    }

    private func printStats() {
        guard configuration.printStats else { return }
        let seconds = SystemIO.monotonicSeconds() - startTime
        let rounded = (seconds * 1000).rounded() / 1000
        SystemIO.printError(
            #"{"stage":"\#(executableName)","read":\#(counts.read),"written":\#(counts.written),"dropped":\#(counts.dropped),"rejected":\#(counts.bad),"bytes_read":\#(counts.bytesRead),"bytes_written":\#(counts.bytesWritten),"seconds":\#(JSONNumber.format(rounded))}"#)
    }
}

/// Counts kept by the writer for `--stats` and `--progress`.
struct RunCounts {
    var read = 0
    var written = 0
    var dropped = 0
    var bad = 0
    var bytesRead = 0
    var bytesWritten = 0
}
