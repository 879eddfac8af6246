#if canImport(Glibc)
import Glibc
#endif

/// The sequential end of a stage: receives every chunk's output in input order.
///
/// Most stages use ``PassThroughSink`` (write the bytes). A stage that must see all its
/// output in order, or do work at end of input (wrap records in a JSON array, keep a CSV
/// header, keep the last N records), supplies its own sink; ``RecordStepSink`` runs a
/// per-record ``RecordStep`` in input order. A sink runs on the writer's own thread, one
/// call at a time, so it needs no locks and may block (a rate limiter sleeps there, which
/// is how its backpressure reaches the reader). Only the three write calls are required.
///
/// After each call the writer asks ``report(into:)`` what else happened: records the
/// sink's logic dropped, bad records it found (they go through the error policy like any
/// other), and whether it has all it needs (``SinkReport/isSatisfied``: the run then stops
/// reading, finishes and ends, as `weir-head` does).
package protocol OutputSink {
    /// Called once before any output.
    mutating func begin(_ target: OutputTarget) throws(IOError)
    /// Writes (or absorbs) one run of output bytes produced by the workers.
    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError)
    /// Called once at the end of a successful run (not after a fatal error).
    mutating func finish(_ target: OutputTarget) throws(IOError)
    /// Called once after ``finish(_:)`` when the run succeeds (exit status 0, or any status
    /// under `--errors skip` or `reject`, as for the `-o` file): put the sink's own files in
    /// place. A run that fails after `finish` (an unreadable input under `--errors fail`)
    /// calls ``abandon()`` instead. Default: nothing.
    mutating func commit() throws(IOError)
    /// Called once when the run fails or is stopped: remove temporary files. Default: nothing.
    mutating func abandon()
    /// Moves what the sink has to report since the last call into `report`. Default: nothing.
    mutating func report(into report: inout SinkReport)
    /// True when the sink counts the bytes it writes itself (``SinkReport/bytesWritten``),
    /// because they are not the bytes it is given (it drops, holds back or rewrites records).
    /// Default: false, and the writer counts the bytes it hands over.
    var reportsBytesWritten: Bool { get }
    /// True when the run stops as soon as the reader of standard output goes away (the
    /// contract: `| head -1` ends the stage). A sink whose output is elsewhere (the files of
    /// `weir-split`, which copies to standard output only as `tee -p` does) says false, and
    /// the run goes on to the end. Default: true.
    var stopsWhenConsumerLeaves: Bool { get }
    /// True when the sink itself waits (a rate limiter sleeps): the writer then runs on a
    /// thread of its own, whatever the output. Default: false.
    var mayBlock: Bool { get }
}

extension OutputSink {
    package mutating func commit() throws(IOError) {}
    package mutating func abandon() {}
    package mutating func report(into report: inout SinkReport) {}
    package var reportsBytesWritten: Bool { false }
    package var stopsWhenConsumerLeaves: Bool { true }
    package var mayBlock: Bool { false }
}

/// What a sink tells the writer after a call (see ``OutputSink/report(into:)``).
package struct SinkReport {
    /// Records the sink received but did not write, by its own logic (counted as dropped).
    package var dropped = 0
    /// Records the sink found bad: reported under the error policy (counted as rejected).
    package var problems: [RecordProblem] = []
    /// Extra output records the sink wrote of its own (a summary line).
    package var added = 0
    /// True when the sink needs no more input: the run finishes now.
    package var isSatisfied = false
    /// Bytes written since the last report, for `--stats` (read when ``OutputSink/reportsBytesWritten``).
    package var bytesWritten = 0
    /// Extra counts for `--stats` (`"files": 12`), by name, in the order first set.
    package var statistics: [(name: String, value: Int)] = []

    package init() {}

    /// Sets a named count for `--stats`.
    package mutating func setStatistic(_ name: String, _ value: Int) {
        if let index = statistics.firstIndex(where: { $0.name == name }) {
            statistics[index].value = value
        } else {
            statistics.append((name, value))
        }
    }
}

/// Writes the workers' bytes as they are.
package struct PassThroughSink: OutputSink {
    package init() {}
    package mutating func begin(_ target: OutputTarget) throws(IOError) {}
    package mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        try target.write(bytes)
    }
    package mutating func finish(_ target: OutputTarget) throws(IOError) {}
}

/// A sequential per-record step, run by ``RecordStepSink`` on every output record in input
/// order: for stages that need the whole order (head, tail, a reservoir sample, a rate
/// limiter). Workers still do the per-record work in parallel (validate, compute a key).
///
/// A stage that needs a key per record has its workers write `KEY<TAB>RECORD` lines (the
/// key as compact JSON, which never holds a raw tab or newline) and splits them with
/// ``RecordStepSink/splitKey(_:)``.
package protocol RecordStep {
    /// Before any input: may emit a header, or call ``StepOutput/satisfy()`` when the step
    /// needs no input at all (`weir-head -n 0`: the run then ends without reading). Default: nothing.
    mutating func begin(output: inout StepOutput) throws(IOError)
    /// Takes one record (a line without its `\n`); emits what to write through `output`.
    mutating func take(_ record: UnsafeRawBufferPointer, output: inout StepOutput) throws(IOError)
    /// End of input: emits what was held back. Default: nothing.
    mutating func finish(output: inout StepOutput) throws(IOError)
    /// True when the step waits (``StepOutput/pause(_:)``): see ``OutputSink/mayBlock``. Default: false.
    var mayBlock: Bool { get }
}

extension RecordStep {
    package mutating func begin(output: inout StepOutput) throws(IOError) {}
    package mutating func finish(output: inout StepOutput) throws(IOError) {}
    package var mayBlock: Bool { false }
}

/// What a ``RecordStep`` writes to, drops and reports.
package struct StepOutput {
    /// The output file or standard output.
    package let target: OutputTarget
    fileprivate var buffer: [UInt8] = []
    fileprivate var report = SinkReport()

    fileprivate init(target: OutputTarget) { self.target = target }

    /// Writes one record followed by `\n` (buffered).
    package mutating func emit(_ record: UnsafeRawBufferPointer) throws(IOError) {
        buffer.append(contentsOf: record)
        buffer.append(0x0A)
        if buffer.count >= 256 * 1024 { try flush() }
    }

    /// Writes one record given as bytes.
    package mutating func emit(_ record: [UInt8]) throws(IOError) {
        try record.withBytes { (bytes) throws(IOError) in try emit(bytes) }
    }

    /// Writes what is buffered now (before a step waits, so the consumer sees it).
    package mutating func flush() throws(IOError) {
        guard !buffer.isEmpty else { return }
        try target.write(buffer)
        report.bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// The longest single sleep of ``pause(_:)``: how soon a stopped run is noticed.
    static let pauseSlice = 0.05

    /// Waits `seconds` on the writer's thread before the step goes on, after writing what is
    /// buffered so the consumer sees it now: how a step applies backpressure (a rate limiter
    /// waiting for its next token holds the writer, so the bounded chunks in flight stop the
    /// reader). Sleeps in slices of at most ``pauseSlice``; returns false, early, once the run
    /// is stopped (its task cancelled: SIGINT/SIGTERM, a failure elsewhere), true after the
    /// full wait. Throws the broken-pipe ``IOError`` as soon as the reader of a pipe on the
    /// output goes away, so a closed consumer ends the run at once, quietly, at any rate.
    package mutating func pause(_ seconds: Double) throws(IOError) -> Bool {
        try flush()
        let end = SystemIO.monotonicSeconds() + seconds
        while !Task.isCancelled {
            let remaining = end - SystemIO.monotonicSeconds()
            if remaining <= 0 { return true }
            if target.waitForReaderToLeave(upTo: min(remaining, Self.pauseSlice)) {
                throw IOError(code: EPIPE, context: "cannot write to '\(target.name)'")
            }
        }
        return false
    }

    /// Counts `count` records as dropped by the step's logic.
    package mutating func drop(_ count: Int = 1) { report.dropped += count }

    /// Says the step needs no more input.
    package mutating func satisfy() { report.isSatisfied = true }

    /// True once ``satisfy()`` was called: later records are only counted as dropped.
    package var isSatisfied: Bool { report.isSatisfied }
}

/// Runs a ``RecordStep`` over the workers' output lines, in input order.
package struct RecordStepSink<Step: RecordStep>: OutputSink {
    private var step: Step
    private var pending = SinkReport()

    package init(_ step: Step) { self.step = step }

    /// Blocks when its step does.
    package var mayBlock: Bool { step.mayBlock }

    /// The step's output is not the workers' bytes: it counts what it writes.
    package var reportsBytesWritten: Bool { true }

    /// The step, for a stage that reads its state at the end.
    var currentStep: Step { step }

    /// Splits a `KEY<TAB>RECORD` line at its first tab.
    package static func splitKey(_ line: UnsafeRawBufferPointer) -> (key: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer) {
        guard let tab = line.firstIndex(of: 0x09) else { return (UnsafeRawBufferPointer(rebasing: line[0..<0]), line) }
        return (UnsafeRawBufferPointer(rebasing: line[..<tab]), UnsafeRawBufferPointer(rebasing: line[(tab + 1)...]))
    }

    package mutating func begin(_ target: OutputTarget) throws(IOError) {
        var output = StepOutput(target: target)
        output.report = pending
        defer { pending = output.report }
        try step.begin(output: &output)
        try output.flush()
    }

    package mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        var output = StepOutput(target: target)
        output.report = pending
        defer { pending = output.report }
        guard let base = bytes.baseAddress else { return }
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = memchr(base + lineStart, 0x0A, bytes.count - lineStart).map { base.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            if output.isSatisfied {
                output.drop()
            } else {
                try step.take(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd]), output: &output)
            }
            lineStart = lineEnd + 1
        }
        try output.flush()
    }

    package mutating func finish(_ target: OutputTarget) throws(IOError) {
        var output = StepOutput(target: target)
        output.report = pending
        defer { pending = output.report }
        try step.finish(output: &output)
        try output.flush()
    }

    package mutating func report(into report: inout SinkReport) {
        report.dropped += pending.dropped
        report.problems += pending.problems
        report.added += pending.added
        report.bytesWritten += pending.bytesWritten
        report.isSatisfied = report.isSatisfied || pending.isSatisfied
        let satisfied = pending.isSatisfied
        pending = SinkReport()
        pending.isSatisfied = satisfied
    }
}

/// Writes bad records to the `--reject` file, one JSON object per line:
/// `{"file":…,"line":…,"column":…,"error":…,"input":…}`.
///
/// `input` is the raw record as a JSON string. When the record is not valid UTF-8 it is
/// written with U+FFFD replacements and the exact bytes follow in `input_base64`, so nothing
/// is lost; an over-long record's input is its first KiB with `"input_truncated":true`.
package final class RejectWriter {
    private let target: OutputTarget
    private var buffer: [UInt8] = []

    /// Opens the reject file (atomically replaced at the end, like `-o`).
    package init(path: String) throws(IOError) {
        target = path == "-" ? OutputTarget() : try OutputTarget(file: path)
    }

    /// The reject file's name.
    package var name: String { target.name }

    /// Adds one entry.
    package func write(_ problem: RecordProblem) throws(IOError) {
        buffer.append(contentsOf: #"{"file":"#.utf8)
        JSONWriter.writeString(InputName.display(problem.fileName), into: &buffer)
        buffer.append(contentsOf: #","line":"#.utf8)
        buffer.append(contentsOf: String(problem.line).utf8)
        if let column = problem.column {
            buffer.append(contentsOf: #","column":"#.utf8)
            buffer.append(contentsOf: String(column).utf8)
        }
        buffer.append(contentsOf: #","error":"#.utf8)
        JSONWriter.writeString(problem.message, into: &buffer)
        for (name, value) in problem.details {
            buffer.append(UInt8(ascii: ","))
            JSONWriter.writeString(name, into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            JSONWriter.write(value, into: &buffer)
        }
        buffer.append(contentsOf: #","input":"#.utf8)
        let text = String(decoding: problem.input, as: UTF8.self)
        JSONWriter.writeString(text, into: &buffer)
        if !text.utf8.elementsEqual(problem.input) {
            buffer.append(contentsOf: #","input_base64":""#.utf8)
            buffer.append(contentsOf: Base64.encode(problem.input))
            buffer.append(UInt8(ascii: "\""))
        }
        if problem.inputTruncated { buffer.append(contentsOf: #","input_truncated":true"#.utf8) }
        buffer.append(contentsOf: "}\n".utf8)
        if buffer.count >= 64 * 1024 { try flush() }
    }

    /// Writes buffered entries.
    package func flush() throws(IOError) {
        guard !buffer.isEmpty else { return }
        try target.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and puts the file in place.
    package func commit() throws(IOError) {
        try flush()
        try target.commit()
    }

    /// Removes the temporary file of a failed run.
    package func abandon() {
        target.abandon()
    }
}

/// Standard base64 (RFC 4648) encoding of bytes.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 text of `bytes`, with `=` padding.
    package static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next(), third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(value >> 6 & 63)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(value & 63)])
        }
        return output
    }
}
