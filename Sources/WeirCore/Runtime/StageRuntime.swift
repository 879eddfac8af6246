import Dispatch
import Glibc
import Synchronization

/// Runs a stage: reads, transforms in parallel, and writes in order, with bounded memory.
///
/// ```
///  records flow down ─────────────────────────────────────────────────────────────────────────▶
///
///                  permits (AsyncSemaphore: chunks in flight ≤ 2·jobs + 2 + held by the source)
///            ┌───────────────────────────────────────────────────────────────────────────┐
///            ▼                                                                           │ release
///   RecordSource ─chunks─▶ AsyncQueue ─▶ worker × jobs ─▶ OrderedResults ─▶ writer ─▶ OutputSink ─▶ stdout / -o FILE
///   (files in order,        (FIFO)       (ChunkTransform,  (sequence order)  (error policy,   (in order;
///    generated, several                   cooperative pool)                   reject file,     may be satisfied)
///    inputs at once,                      end of input:                       counts)
///    merged by a key;                     merge + finish
///    waits: own threads)
///
///  stop flows up ◀─────────────────────────────────────────────────────────────────────────────
///   a sink satisfied (head), the first bad record under --errors fail, EPIPE on stdout, or
///   SIGINT/SIGTERM/SIGHUP ─▶ the writer sets the outcome ─▶ the task group is cancelled (every
///   wait above resumes) and the StopLatch fires (readers blocked in poll wake) ─▶ sinks and
///   outputs commit or abandon ─▶ run returns ─▶ the stage's entry point exits; an upstream
///   Weir stage then sees EPIPE on its output and stops the same way.
/// ```
///
/// No thread of the cooperative pool ever blocks, so workers that await network or child
/// processes are never starved. The source reads and frames on the pool, and when a pipe,
/// FIFO or terminal has nothing ready (or a FIFO waits for its writer) it suspends while a
/// thread of its own waits in `poll(2)` with the ``StopLatch``: input that is ready, the
/// usual case in a busy pipeline, costs no hand-off between threads (measured: a reader on
/// a thread of its own cost `weir-from-json` a third of its speed, and ten times the context
/// switches). The writer runs on a thread of its own (``DedicatedThreadExecutor``) when a
/// `write(2)` may wait (a pipe, FIFO or terminal on the other side) or the sink waits (a rate
/// limiter); writing to a file or `/dev/null` it shares the pool.
/// ``run(source:sink:makeTransform:)`` returns a ``RunOutcome``; only the stage's entry
/// point (``StageInvocation``) ends the process.
package struct StageRuntime: Sendable {
    /// The configuration from the common options.
    package var configuration: RuntimeConfiguration
    /// The stage's executable name, for messages (`weir-cat`).
    package var executableName: String

    package init(configuration: RuntimeConfiguration, executableName: String) {
        self.configuration = configuration
        self.executableName = executableName
    }

    /// Runs the stage to completion (or until it stops) and returns how it ended.
    package func run<Source: RecordSource, Transform: ChunkTransform, Sink: OutputSink>(
        source: Source,
        sink: Sink,
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> RunOutcome where Transform.Context == Source.Context {
        SystemIO.ignoreBrokenPipeSignal()
        SignalStop.prepare()  // before the flow can start a child or create a file
        SystemIO.enlargePipeBuffer(SystemIO.standardInput)
        SystemIO.enlargePipeBuffer(SystemIO.standardOutput)
        let latch = StopLatch()
        let consumerGone = Atomic<Bool>(false)
        let watchesConsumer = sink.stopsWhenConsumerLeaves
        let sinkBox = Handover(sink)
        // The writer gets a thread of its own when a write may wait (a pipe, FIFO or terminal
        // on the other side) or the sink itself waits; else it shares the pool.
        let outputs = [configuration.outputPath ?? "-", configuration.rejectPath].compactMap { $0 }
        let writerMayBlock = sink.mayBlock || outputs.contains { $0 == "-" ? SystemIO.mayBlock(SystemIO.standardOutput) : SystemIO.mayBlock(path: $0) }
        let task = Task(executorPreference: writerMayBlock ? DedicatedThreadExecutor(label: "writer") : nil) {
            await self.runFlow(source: source, sink: sinkBox.value, latch: latch, consumerGone: consumerGone, makeTransform: makeTransform)
        }
        // Cancel before firing the latch: a reader woken by the latch ends its input, and the
        // writer must then see a stopped run, not an input that ended (and commit nothing).
        SignalStop.onSignal { _ in
            task.cancel()
            latch.fire()
        }
        if watchesConsumer, configuration.outputPath == nil, SystemIO.isPipe(SystemIO.standardOutput) {
            // The consumer may exit while this stage has nothing to write (a slow input):
            // a thread of its own watches standard output hang up and stops the run.
            DispatchQueue(label: "weir.consumer").async {
                guard latch.waitForHangUp(SystemIO.standardOutput) else { return }
                consumerGone.store(true, ordering: .releasing)
                task.cancel()
                latch.fire()
            }
        }
        return await task.value
    }

    private func runFlow<Source: RecordSource, Transform: ChunkTransform, Sink: OutputSink>(
        source: Source, sink: Sink, latch: StopLatch, consumerGone: borrowing Atomic<Bool>,
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> RunOutcome where Transform.Context == Source.Context {
        let configuration = self.configuration
        var writer: OrderedWriter<Sink>
        do throws(IOError) {
            writer = try OrderedWriter(configuration: configuration, executableName: executableName, sink: sink, inputPaths: source.inputPaths)
        } catch {
            SystemIO.printError("\(executableName): \(error)")
            return RunOutcome(status: 1, counts: RunCounts())
        }
        if let outcome = writer.outcome { return outcome }
        let queue = AsyncQueue<InputChunk<Source.Context>>()
        let results = OrderedResults<ChunkOutput>(inCompletionOrder: configuration.writesInCompletionOrder)
        let permits = AsyncSemaphore(permits: configuration.jobs * 2 + 1 + source.heldPermits)
        let stopsAtFirstProblem = configuration.errorPolicy == .fail
        let context = SourceContext(permits: permits, latch: latch) { queue.send($0) }
        let finished = FinishedWorkers<Transform>()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: source.mayBlock ? DedicatedThreadExecutor(label: "reader") : globalConcurrentExecutor) {
                await source.run(context)
                queue.finish()
                results.finish(total: context.shippedCount)
            }
            for worker in 0..<configuration.jobs {
                group.addTask(executorPreference: globalConcurrentExecutor) {
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
                    if !Task.isCancelled {
                        let handover = Handover(transform)
                        finished.add(worker, handover)
                    }
                }
            }
            while writer.outcome == nil, let output = await results.next() {
                writer.consume(output)
                permits.release()
            }
            if writer.outcome == nil, !Task.isCancelled, SignalStop.receivedSignal == nil {
                // End of input: every worker has ended; fold their states and finish once.
                await group.waitForAll()
                var transforms = finished.inWorkerOrder
                if !transforms.isEmpty, !Task.isCancelled {
                    var merged = transforms.removeFirst()
                    for other in transforms { merged.merge(other) }
                    var output = ChunkOutput(
                        sequence: context.shippedCount, stopsAtFirstProblem: stopsAtFirstProblem,
                        inputByteCount: 0, maxRecordBytes: configuration.maxRecordBytes)
                    await merged.finish(into: &output)
                    writer.consume(output)
                }
                if writer.outcome == nil, !Task.isCancelled, SignalStop.receivedSignal == nil { writer.finish() }
            }
            latch.fire()
            group.cancelAll()
            if writer.outcome == nil {
                if consumerGone.load(ordering: .acquiring) {
                    writer.stopForGoneConsumer()
                } else {
                    writer.stopBySignal(SignalStop.receivedSignal ?? SIGTERM)
                }
            }
            return writer.outcome!
        }
    }
}

/// The transforms of the workers that ran to the end of input, handed to the writer.
private final class FinishedWorkers<Transform>: Sendable {
    private let list = Mutex<[(worker: Int, transform: Handover<Transform>)]>([])

    func add(_ worker: Int, _ transform: Handover<Transform>) {
        list.withLock { $0.append((worker, transform)) }
    }

    var inWorkerOrder: [Transform] {
        list.withLock { $0 }.sorted { $0.worker < $1.worker }.map(\.transform.value)
    }
}

/// How a run ended: the exit status, the signal that stopped it (if one did), the counts.
package struct RunOutcome: Sendable {
    /// The exit status: 0 success, 1 a data or I/O error.
    package var status: Int32
    /// The signal (SIGINT, SIGTERM, SIGHUP) that stopped the run, if one did.
    package var signal: Int32? = nil
    /// What was read, written, dropped and rejected.
    package var counts: RunCounts

    package init(status: Int32, signal: Int32? = nil, counts: RunCounts) {
        self.status = status
        self.signal = signal
        self.counts = counts
    }
}

/// What the common options say about a run.
package struct RuntimeConfiguration: Sendable {
    /// What a bad record does.
    package enum ErrorPolicy: String, Sendable, CaseIterable { case fail, skip, reject }

    /// Input files in order (`-` is standard input); empty means standard input.
    package var inputPaths: [String] = []
    /// `-o FILE`, or nil for standard output.
    package var outputPath: String? = nil
    /// Worker tasks.
    package var jobs: Int = SystemIO.processorCount
    /// True when chunks are written as they complete, not in input order (`weir-fetch
    /// --unordered`); counts and the error policy are unchanged.
    package var writesInCompletionOrder = false
    /// `--errors`.
    package var errorPolicy: ErrorPolicy = .fail
    /// `--reject FILE`.
    var rejectPath: String? = nil
    /// `-q`: count skipped records instead of reporting each.
    package var quiet = false
    /// `--max-line-bytes`.
    package var maxRecordBytes = 64 << 20
    /// `--progress`.
    var showProgress = false
    /// `--stats`.
    var printStats = false
    /// The stage's own counts (requests, retries, cache hits), shown after the run's counts
    /// by `--progress` and `--stats`.
    package var counters: [StageCounter] = []

    package init() {}
}

/// The writer: applies the error policy, writes output in order, keeps counts, reports.
///
/// It never ends the process: when the run must end (all input written, the first bad
/// record under `--errors fail`, a write error, a closed consumer, a satisfied sink, a
/// signal) it commits or abandons the outputs and sets ``outcome``.
///
/// One rule for every failure: a run whose exit status is not 0 commits no `-o` file
/// unless the user asked for `--errors skip` or `--errors reject` (then the output holds
/// every good record, and the status says that something was wrong, such as a missing
/// input file). The reject file is kept whenever it holds the bad records of a run.
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
    private var rejectsFailed = false
    private var statistics: [(name: String, value: Int)] = []
    /// How the run ended, once it has.
    private(set) var outcome: RunOutcome? = nil

    init(configuration: RuntimeConfiguration, executableName: String, sink: Sink, inputPaths: [String]) throws(IOError) {
        self.configuration = configuration
        self.executableName = executableName
        self.sink = sink
        if configuration.outputPath == nil, !SystemIO.standardOutputIsOpen {
            throw IOError(code: EBADF, context: "standard output is closed")
        }
        output = try configuration.outputPath.map { (path) throws(IOError) in try OutputTarget(file: path) } ?? OutputTarget()
        do throws(IOError) {
            rejects = try configuration.rejectPath.map { (path) throws(IOError) in try RejectWriter(path: path) }
        } catch {
            output.abandon()
            throw error
        }
        if configuration.showProgress {
            progress = ProgressReporter(executableName: executableName, totalBytes: ProgressReporter.totalSize(of: inputPaths), counters: configuration.counters)
        }
        do throws(IOError) {
            try self.sink.begin(output)
            takeSinkReport()
        } catch {
            fail(error)
        }
        // A sink that needs no input at all (`weir-head -n 0`) ends the run before any read.
        if outcome == nil, isSatisfied { finish() }
    }

    /// Writes one chunk's output, handling its problems in place.
    mutating func consume(_ chunk: ChunkOutput) {
        guard outcome == nil else { return }
        counts.read += chunk.recordsRead
        counts.written += chunk.recordsWritten
        counts.outputs += chunk.outputRecords > 0 ? chunk.outputRecords : chunk.recordsWritten
        counts.dropped += chunk.recordsDropped
        counts.bytesRead += chunk.inputByteCount
        chunk.bytes.withUnsafeBytes { bytes in
            var written = 0
            for problem in chunk.problems {
                write(UnsafeRawBufferPointer(rebasing: bytes[written..<problem.outputOffset]))
                written = problem.outputOffset
                if outcome != nil { return }
                if isSatisfied {
                    // The sink has all it needs: what comes after it is input the run no
                    // longer reads, good or bad, so it is dropped, never reported.
                    if !problem.isFatal { counts.dropped += 1 }
                    continue
                }
                handle(problem)
                if outcome != nil { return }
            }
            write(UnsafeRawBufferPointer(rebasing: bytes[written...]))
        }
        progress?.update(counts, final: false)
        if outcome == nil, isSatisfied { finish() }
    }

    private var isSatisfied = false

    /// Ends a run that read all the input it needs: flush, put files in place, report.
    mutating func finish() {
        guard outcome == nil else { return }
        do throws(IOError) {
            try sink.finish(output)
            takeSinkReport()
        } catch {
            fail(error)
            return
        }
        if outcome != nil { return }
        let status: Int32 = inputFailed ? 1 : 0
        if status != 0, configuration.errorPolicy == .fail {
            end(status: status)
            return
        }
        do throws(IOError) {
            try sink.commit()
            try output.commit()
        } catch {
            fail(error)
            return
        }
        do throws(IOError) {
            try rejects?.commit()
        } catch {
            rejectsFailed = true
            fail(error)
            return
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
        outcome = RunOutcome(status: status, counts: counts)
    }

    /// Ends a run stopped by a signal: nothing is committed.
    mutating func stopBySignal(_ signalNumber: Int32) {
        guard outcome == nil else { return }
        sink.abandon()
        output.abandon()
        rejects?.abandon()
        outcome = RunOutcome(status: 128 + signalNumber, signal: signalNumber, counts: counts)
    }

    /// Ends a run whose consumer went away while it waited for input: quietly, status 0.
    mutating func stopForGoneConsumer() {
        fail(IOError(code: EPIPE, context: "cannot write '<stdout>'"))
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, outcome == nil else { return }
        do throws(IOError) {
            try sink.write(bytes, to: output)
            if !sink.reportsBytesWritten { counts.bytesWritten += bytes.count }
            takeSinkReport()
        } catch {
            fail(error)
        }
    }

    /// Takes in what the sink has to report: drops, bad records, satisfaction, statistics.
    private mutating func takeSinkReport() {
        var report = SinkReport()
        sink.report(into: &report)
        counts.dropped += report.dropped
        counts.written -= min(counts.written, report.dropped + report.problems.count)
        counts.outputs -= min(counts.outputs, report.dropped + report.problems.count)
        counts.outputs += report.added
        if sink.reportsBytesWritten { counts.bytesWritten += report.bytesWritten }
        for (name, value) in report.statistics {
            if let index = statistics.firstIndex(where: { $0.name == name }) { statistics[index].value = value } else { statistics.append((name, value)) }
        }
        if report.isSatisfied { isSatisfied = true }
        for problem in report.problems where outcome == nil { handle(problem) }
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
            do throws(IOError) { try rejects?.write(problem) } catch {
                rejectsFailed = true
                fail(error)
            }
        }
    }

    /// Ends the run after a fatal error: what was written to standard output stays; no
    /// output file is committed; the reject file keeps what it holds.
    private mutating func end(status: Int32) {
        guard outcome == nil else { return }
        sink.abandon()
        output.abandon()
        if rejectsFailed {
            rejects?.abandon()
        } else if rejects != nil {
            do throws(IOError) { try rejects?.commit() } catch {
                SystemIO.printError("\(executableName): \(error)")
                rejects?.abandon()
            }
        }
        printStats()
        outcome = RunOutcome(status: status, counts: counts)
    }

    /// Handles an output error: quiet success when the consumer went away, else exit 1.
    /// A sink that stopped its own long work (an external sort's merge) because the run was
    /// stopped throws `ECANCELED`: the run then ends as stopped, by its signal.
    private mutating func fail(_ error: IOError) {
        guard outcome == nil else { return }
        if error.code == ECANCELED, Task.isCancelled || SignalStop.receivedSignal != nil { return }
        if error.isBrokenPipe, !output.isAtomic {
            sink.abandon()
            try? rejects?.commit()
            outcome = RunOutcome(status: 0, counts: counts)
            return
        }
        SystemIO.printError("\(executableName): \(error)")
        end(status: 1)
    }

    private func printStats() {
        guard configuration.printStats else { return }
        let seconds = SystemIO.monotonicSeconds() - startTime
        let rounded = (seconds * 1000).rounded() / 1000
        var extra = ""
        if counts.outputs != counts.written { extra += #","outputs":\#(counts.outputs)"# }
        for (name, value) in statistics { extra += ",\(JSONWriter.string(.string(name))):\(value)" }
        for counter in configuration.counters { extra += ",\(JSONWriter.string(.string(counter.name))):\(counter.value)" }
        SystemIO.printError(
            #"{"stage":"\#(executableName)","read":\#(counts.read),"written":\#(counts.written),"dropped":\#(counts.dropped),"rejected":\#(counts.bad)\#(extra),"bytes_read":\#(counts.bytesRead),"bytes_written":\#(counts.bytesWritten),"seconds":\#(JSONNumber.format(rounded))}"#)
    }
}

/// One named count a stage keeps while it runs (`requests`, `retries`, `in_flight`), safe to
/// change from any task; `--progress` and `--stats` show it after the run's own counts.
package final class StageCounter: Sendable {
    /// The name shown (`--stats` key).
    package let name: String
    /// True when `--progress` also shows it per second (`requests 1200, 1180/s`).
    package let showsRate: Bool
    private let count = Atomic<Int>(0)

    package init(_ name: String, showsRate: Bool = false) {
        self.name = name
        self.showsRate = showsRate
    }

    /// Adds `amount` (negative to take away, for a gauge such as records in flight).
    package func add(_ amount: Int = 1) { count.add(amount, ordering: .relaxed) }
    /// Sets the count (a size measured once, such as a lookup's bytes).
    package func set(_ value: Int) { count.store(value, ordering: .relaxed) }
    /// The count now.
    package var value: Int { count.load(ordering: .relaxed) }
}

/// Counts kept by the writer for `--stats` and `--progress`.
package struct RunCounts: Sendable {
    /// Input records read.
    package var read = 0
    /// Input records that made it to the output.
    package var written = 0
    /// Output records written (more than `written` when a record yields several).
    package var outputs = 0
    /// Records dropped by the stage's logic.
    package var dropped = 0
    /// Bad records (reported, skipped or rejected).
    package var bad = 0
    var bytesRead = 0
    package var bytesWritten = 0
}
