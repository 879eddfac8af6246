#if canImport(Glibc)
import Glibc
#endif

/// Why a co-process gave no answer for a record.
package struct CoProcessFailure: Error, Sendable {
    /// The command.
    package var command: ChildCommand
    /// What went wrong, for the message: `exited with status 1`, `could not be started: …`.
    package var reason: String
    /// How the co-process ended, when it ran.
    package var exit: ChildExit?
    /// True when it went quiet longer than the timeout and was killed.
    package var timedOut: Bool
    /// The end of its standard error.
    package var errorTail: [UInt8]
    /// How many co-processes tried the record.
    package var attempts: Int
}

/// The answers of a co-process to a batch of records: their bytes, and per record the
/// range of its answer line (without the line end) or why there is none.
package struct CoProcessAnswers: Sendable {
    /// The answer lines, one after another.
    package var bytes: [UInt8] = []
    /// Per record, in order: its answer's range in ``bytes``, or the failure.
    package var answers: [Result<Range<Int>, CoProcessFailure>] = []

    package init() {}
}

/// One long-lived copy of a command that reads NDJSON lines and answers exactly one line
/// per line (a co-process), restarted when it dies: the persistent mode of `weir-exec`.
///
/// ``answers(to:)`` pipelines a whole batch: it queues every line for the co-process's
/// input and reads the answers as they come (the ``ChildProcess`` writes and reads
/// independently, so full pipe buffers cannot deadlock). When the co-process's output
/// ends, a line overflows, or (with an idle timeout) it goes quiet, before all answers
/// came, it is ended and a new one gets the unanswered records. The first unanswered
/// record is the one it was working on: it is retried once, and if the second co-process
/// dies on it too it fails (the others are sent again, uncharged). A command that dies
/// without ever answering three times in a row is broken: every later record fails at
/// once with its last failure instead of costing two spawns each.
///
/// Records are delivered at least once: a record retried after a death may have had
/// effects in the co-process that died.
package struct CoProcess {
    /// The command.
    package let command: ChildCommand
    /// Seconds a co-process may go without answering before it is killed; nil for no limit.
    package let idleTimeout: Double?
    /// The longest answer line (and the most unread output) accepted.
    package let outputLimit: Int
    /// Counts restarts (co-processes started after the first), for `--stats`.
    package let restarts: StageCounter?
    private var child: ChildProcess?
    private var childHasAnswered = false
    private var startedAny = false
    private var barrenDeaths = 0
    private var brokenBy: CoProcessFailure?
    /// Co-processes taken over from other workers at end of input, to end with this one's.
    private var retired: [ChildProcess] = []

    /// Deaths without a single answer, in a row, after which the command counts as broken.
    static let barrenDeathLimit = 3

    package init(command: ChildCommand, idleTimeout: Double? = nil, outputLimit: Int = 64 << 20, restarts: StageCounter? = nil) {
        self.command = command
        self.idleTimeout = idleTimeout
        self.outputLimit = outputLimit
        self.restarts = restarts
    }

    /// Sends each record (a line without its end) and returns one answer per record, in order.
    package mutating func answers(to records: [ArraySlice<UInt8>]) async -> CoProcessAnswers {
        var result = CoProcessAnswers()
        var answers = [Result<Range<Int>, CoProcessFailure>?](repeating: nil, count: records.count)
        var attempts = [Int](repeating: 0, count: records.count)
        var pending = Array(records.indices)
        var payload: [UInt8] = []
        while !pending.isEmpty {
            if Task.isCancelled {
                let stopped = CoProcessFailure(command: command, reason: "was stopped", exit: nil, timedOut: false, errorTail: [], attempts: 0)
                for index in pending { answers[index] = .failure(stopped) }
                break
            }
            if let brokenBy {
                for index in pending { answers[index] = .failure(brokenBy) }
                break
            }
            let child: ChildProcess
            do throws(ChildSpawnError) {
                child = try running()
            } catch {
                let failure = CoProcessFailure(command: command, reason: "could not be started: \(SystemIO.errorMessage(error.code))", exit: nil, timedOut: false, errorTail: [], attempts: 1)
                brokenBy = failure
                continue
            }
            payload.removeAll(keepingCapacity: true)
            for index in pending {
                payload.append(contentsOf: records[index])
                payload.append(0x0A)
            }
            child.send(payload)
            let lines = await child.lines(pending.count, idleTimeout: idleTimeout)
            var answered = 0
            lines.bytes.withUnsafeBytes { bytes in
                var start = 0
                while answered < lines.count, let base = bytes.baseAddress,
                      let newline = memchr(base + start, 0x0A, bytes.count - start) {
                    var end = base.distance(to: UnsafeRawPointer(newline))
                    let next = end + 1
                    if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                    let offset = result.bytes.count
                    result.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                    answers[pending[answered]] = .success(offset..<result.bytes.count)
                    answered += 1
                    start = next
                }
            }
            if answered > 0 {
                childHasAnswered = true
                barrenDeaths = 0
            }
            pending.removeFirst(answered)
            guard let head = pending.first else { break }
            // The co-process ended, overflowed or went quiet before answering `head`.
            child.terminate()
            let ended = await child.finished()
            self.child = nil
            if !childHasAnswered { barrenDeaths += 1 }
            attempts[head] += 1
            let reason: String
            if lines.timedOut {
                reason = "gave no answer for \(DurationText.text(idleTimeout ?? 0)) and was killed"
            } else if lines.overflowed {
                reason = "printed an answer longer than \(ParsedOptions.sizeText(outputLimit)) bytes and was killed"
            } else if ended.exit.isSuccess || ended.exit == .unknown {
                reason = "ended its output before answering"
            } else {
                reason = ended.exit.description
            }
            let failure = CoProcessFailure(
                command: command, reason: reason, exit: ended.exit, timedOut: lines.timedOut,
                errorTail: ended.errorTail, attempts: attempts[head])
            if barrenDeaths >= Self.barrenDeathLimit { brokenBy = failure }
            if attempts[head] >= 2 {
                answers[head] = .failure(failure)
                pending.removeFirst()
            }
        }
        result.answers = answers.map { $0! }
        return result
    }

    /// Takes over another worker's co-process, to end it with this one's (end of input).
    package mutating func adopt(_ other: consuming CoProcess) {
        if let child = other.child { retired.append(child) }
        retired += other.retired
    }

    /// Ends the co-processes at end of input: closes their input so they exit as they
    /// would at the end of a file, and terminates any still running after `grace` seconds.
    package mutating func finish(grace: Double = 2) async {
        var children = retired
        if let child { children.append(child) }
        child = nil
        retired = []
        for child in children {
            child.closeInput()
            Task {
                try? await Task.sleep(nanoseconds: UInt64(grace * 1e9))
                child.terminate()
            }
        }
        for child in children { _ = await child.finished() }
    }

    private mutating func running() throws(ChildSpawnError) -> ChildProcess {
        if let child { return child }
        let started = try ChildProcess.launch(command, outputLimit: outputLimit)
        if startedAny { restarts?.add() }
        startedAny = true
        child = started
        childHasAnswered = false
        return started
    }
}
