#if canImport(Glibc)
import Glibc
#endif

/// A stage's per-record work that awaits I/O: a network reply (`weir-fetch`), a child process
/// (`weir-exec`). The runtime runs one record at a time on each of N worker tasks, so N
/// records are in flight, and writes the results in input order (or as they complete).
///
/// Each worker owns its instance (made by the stage's factory): a transform may keep a
/// connection or a co-process without locks. ``process(_:at:into:)`` runs on the cooperative
/// pool and must not block a thread there: it awaits. A stopped run cancels the workers; a
/// transform should pass cancellation to what it awaits (the HTTP transports and child
/// processes of WeirCore do). End of input works as for ``RecordTransform``.
package protocol AsyncRecordTransform {
    /// Processes one record (its bytes without the line end), appending whole `\n`-terminated
    /// output lines to `output`; returns how many output records it wrote (0: dropped). On a
    /// thrown error the runtime removes anything this call appended and reports the record.
    mutating func process(_ record: [UInt8], at position: RecordPosition, into output: inout [UInt8]) async throws(RecordError) -> Int

    /// Takes over the state of another worker's instance (end of input). Default: nothing.
    mutating func merge(_ other: consuming Self)

    /// Appends end-of-input output once, on the merged instance; returns output records. Default: nothing.
    mutating func finish(into output: inout [UInt8]) async throws(RecordError) -> Int
}

extension AsyncRecordTransform {
    package mutating func merge(_ other: consuming Self) {}
    package mutating func finish(into output: inout [UInt8]) async throws(RecordError) -> Int { 0 }
}

/// Runs an ``AsyncRecordTransform`` over the lines of a chunk (blank lines skipped), awaiting
/// each record in turn: with chunks of one record and N workers, N records are in flight.
package struct AsyncRecordChunkTransform<Transform: AsyncRecordTransform>: ChunkTransform {
    private var transform: Transform

    package init(_ transform: Transform) {
        self.transform = transform
    }

    package mutating func merge(_ other: consuming AsyncRecordChunkTransform<Transform>) {
        transform.merge(other.transform)
    }

    package mutating func finish(into output: inout ChunkOutput) async {
        do {
            let written = try await transform.finish(into: &output.bytes)
            output.recordsWritten += written
            output.outputRecords += written
        } catch {
            output.report(error, at: RecordPosition(fileName: "-", line: 0), input: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    package mutating func process(_ chunk: InputChunk<NoFileContext>, into output: inout ChunkOutput) async {
        var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, inputIndex: chunk.inputIndex)
        for line in Self.lines(chunk.bytes) {
            defer { position.line += 1 }
            guard let line else { continue }
            if Task.isCancelled { return }
            output.recordsRead += 1
            let record = Array(chunk.bytes[line])
            if record.count > output.maxRecordBytes {
                let keepGoing = record.withUnsafeBytes { output.reportOversized(at: position, input: $0) }
                if keepGoing { continue } else { return }
            }
            let mark = output.bytes.count
            do {
                let written = try await transform.process(record, at: position, into: &output.bytes)
                if written == 0 {
                    output.recordsDropped += 1
                } else {
                    output.recordsWritten += 1
                    output.outputRecords += written
                }
            } catch {
                output.bytes.removeSubrange(mark...)
                let keepGoing = record.withUnsafeBytes { output.report(error, at: position, input: $0) }
                if !keepGoing { return }
            }
        }
    }

    /// The chunk's lines in order (without `\n` or `\r\n`): nil for a blank line, which keeps
    /// its place in the line count.
    package static func lines(_ bytes: [UInt8]) -> [Range<Int>?] {
        LineCounter.lineRanges(bytes)
    }
}

extension StageInvocation {
    /// The most records in flight a stage may ask ``runConcurrently(concurrency:ordered:sink:makeTransform:)`` for.
    package static let concurrencyRange = 1...4096

    /// Runs an I/O-bound per-record stage over the NDJSON lines of the input files:
    /// `concurrency` worker tasks each await one record at a time, so that many records are
    /// in flight, kept full across records (a slow one holds only its own worker).
    ///
    /// Output is in input order, and at most `2 × concurrency + 1` records are held between
    /// the reader and the writer (the reorder window: a slow record holds back at most that
    /// many, and memory never grows with the input); with `ordered: false` records are
    /// written as they complete. `--jobs` does not apply: `concurrency` is the number of workers.
    /// `counters` are the stage's own counts, for `--progress` and `--stats`.
    package func runConcurrently<Transform: AsyncRecordTransform, Sink: OutputSink>(
        concurrency: Int,
        ordered: Bool = true,
        counters: [StageCounter] = [],
        sink: Sink = PassThroughSink(),
        makeTransform: @escaping @Sendable () -> Transform
    ) async -> Never {
        var configuration = checkedConfiguration
        configuration.jobs = min(max(concurrency, 1), Self.concurrencyRange.upperBound)
        configuration.writesInCompletionOrder = !ordered
        configuration.counters = counters
        let source = FileSequenceSource(paths: configuration.inputPaths, framer: LineFramer(maxRecords: 1), decoder: nil, maxRecordBytes: configuration.maxRecordBytes)
        let runtime = StageRuntime(configuration: configuration, executableName: spec.executableName)
        let outcome = await runtime.run(source: source, sink: sink) { AsyncRecordChunkTransform(makeTransform()) }
        Self.exit(with: outcome)
    }
}
