import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A command to run: its arguments as given, the first one the program (found on `PATH`
/// as `execvp(3)` finds it when it has no slash). No shell is involved unless asked for.
package struct ChildCommand: Sendable {
    /// The argument vector; `arguments[0]` is the program.
    package var arguments: [String]

    package init(arguments: [String]) {
        precondition(!arguments.isEmpty, "a command needs a program")
        self.arguments = arguments
    }

    /// `/bin/sh -c script`: the user asked for a shell.
    package static func shell(_ script: String) -> ChildCommand {
        ChildCommand(arguments: ["/bin/sh", "-c", script])
    }

    /// The program as given (`tr`, `./x`, `/bin/sh`).
    package var program: String { arguments[0] }

    /// The command as messages show it: its words (or the script of a shell command), at
    /// most 40 characters, in quotes.
    package var displayName: String {
        let text = arguments.count == 3 && arguments[0] == "/bin/sh" && arguments[1] == "-c" ? arguments[2] : arguments.joined(separator: " ")
        let flat = String(text.map { $0 == "\n" || $0 == "\t" ? " " : $0 })
        return "'" + (flat.count > 40 ? String(flat.prefix(39)) + "…" : flat) + "'"
    }

    /// Where the program is: itself when it holds a slash, else the first executable
    /// regular file of that name in a `PATH` directory (as `execvp` searches); nil if none.
    package func locateProgram(path: String? = SystemIO.environment("PATH")) -> String? {
        func isExecutableFile(_ candidate: String) -> Bool {
            var info = stat()
            return stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0
        }
        if program.contains("/") { return isExecutableFile(program) ? program : nil }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }
}

/// How a child process ended.
package enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)
    /// Someone else reaped it (the final sweep): the status is not known.
    case unknown

    /// Decodes a `waitpid(2)` status.
    init(waitStatus: Int32) {
        if waitStatus & 0x7F == 0 {
            self = .exited((waitStatus >> 8) & 0xFF)
        } else {
            self = .signaled(waitStatus & 0x7F)
        }
    }

    /// True for exit status 0.
    package var isSuccess: Bool { self == .exited(0) }

    /// `exited with status 3`, `was killed by SIGKILL`.
    package var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .signaled(let number): return "was killed by \(Self.signalName(number))"
        case .unknown: return "ended"
        }
    }

    /// `SIGTERM` for 15; `signal 40` for one without a common name.
    package static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
            SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV",
            SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU",
        ]
        return names[number] ?? "signal \(number)"
    }
}

/// A command that could not be started.
package struct ChildSpawnError: Error, Sendable, CustomStringConvertible {
    /// The `errno` of the failure (0 when the process is ending and spawns no more).
    package var code: Int32
    /// The command.
    package var command: ChildCommand

    package var description: String {
        code == 0 ? "cannot run \(command.displayName): the stage is stopping" : "cannot run \(command.displayName): \(SystemIO.errorMessage(code))"
    }
}

/// What a finished child left: how it ended, its standard output, the end of its standard error.
package struct ChildResult: Sendable {
    /// How it ended.
    package var exit: ChildExit
    /// Its standard output (at most the capture limit; see ``outputOverflowed``).
    package var output: [UInt8]
    /// True when it printed more than the capture limit (the rest was read and discarded).
    package var outputOverflowed: Bool
    /// The last bytes of its standard error (at most ``ChildProcess/errorTailBytes``).
    package var errorTail: [UInt8]
    /// True when its time ran out and it was killed.
    package var timedOut: Bool

    /// The end of its standard error as one line of text for a message: trailing blank
    /// space removed, line ends shown as ` | `, invalid UTF-8 replaced, at most `limit`
    /// characters (the last ones, after `…`).
    package func errorExcerpt(limit: Int = 300) -> String {
        Self.errorExcerpt(errorTail, limit: limit)
    }

    /// ``errorExcerpt(limit:)`` of any standard error tail (a co-process's).
    package static func errorExcerpt(_ errorTail: [UInt8], limit: Int = 300) -> String {
        var text = String(decoding: errorTail, as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        text = text.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " | ")
        text = String(text.map { $0.isASCII && $0.asciiValue! < 0x20 ? " " : $0 })
        return text.count > limit ? "…" + String(text.suffix(limit - 1)) : text
    }
}

/// A batch of whole lines a co-process printed (see ``ChildProcess/lines(_:idleTimeout:)``).
package struct ChildLines: Sendable {
    /// The lines, each ending in `\n`.
    package var bytes: [UInt8]
    /// How many lines `bytes` holds: the count asked for, or fewer when the child's output
    /// ended, it went quiet too long, or it printed a line longer than the capture limit.
    package var count: Int
    /// True when fewer lines came because the child went quiet for the idle timeout.
    package var timedOut: Bool
    /// True when fewer lines came because a line was longer than the capture limit.
    var overflowed: Bool
}

/// A running child process with pipes to its standard input, output and error, driven
/// without ever blocking a thread of the cooperative pool.
///
/// ```
///   send(_:) ──▶ pending input ──(writable)──▶ stdin ──┐
///                                                      child (its own process group)
///   lines(_:) / finished() ◀── output buffer ◀──(readable)── stdout ─┤
///               stderr tail (last 4 KiB) ◀──(readable)── stderr ─┘
///               exit status ◀── pidfd readable ─▶ waitpid
///   (readiness: the one PollLoop thread for all children; handlers on the child's queue)
/// ```
///
/// Every descriptor is non-blocking on this side and watched by the ``PollLoop``, which
/// runs its handlers on the child's own serial queue; that queue owns all of its state: writing the
/// input and reading the output proceed independently, so a child that prints before it
/// has read everything never deadlocks against us, and no thread waits per child. The
/// child is reaped as soon as it exits (its pidfd becomes readable; where pidfds are not
/// available, by a `waitpid` on a dispatch queue once its pipes have closed), so no zombie
/// stays. ``terminate()`` sends SIGTERM to its process group (grandchildren of a shell
/// too), then SIGKILL after ``killGrace`` seconds. It is spawned with `posix_spawnp`: the
/// pipes on descriptors 0, 1 and 2, every other descriptor closed, an empty signal mask
/// and default signal actions (this process ignores SIGPIPE; the child must not).
///
/// A child is registered in ``ChildRegistry`` from its spawn until it is reaped and its
/// pipes have closed, so every way out of the stage ends it.
package final class ChildProcess: @unchecked Sendable {
    /// The bytes of standard error kept for messages (the last ones).
    static let errorTailBytes = 4096
    /// Seconds between SIGTERM and SIGKILL when a child is terminated.
    static let killGrace = 1.0

    /// The child's process id (also its process group id).
    package let pid: pid_t
    /// What runs.
    package let command: ChildCommand
    private let queue: DispatchQueue
    private let outputLimit: Int

    // Everything below is owned by `queue`.
    private var inputDescriptor: Int32
    private var inputWatched = false
    private var inputWatchEnabled = false
    private var pendingInput: [UInt8] = []
    private var pendingOffset = 0
    private var inputCloseRequested = false
    private var outputDescriptor: Int32 = -1
    private var output: [UInt8] = []
    private var outputOverflowed = false
    private var outputEnded = false
    private var errorDescriptor: Int32 = -1
    private var errorTail: [UInt8] = []
    private var errorEnded = false
    private var processDescriptor: Int32 = -1
    private var exit: ChildExit?
    private var terminating = false
    private var timedOut = false
    private var unregistered = false
    private var reapScheduled = false
    private var resultWaiters: [CheckedContinuation<ChildResult, Never>] = []
    private var lineWaiter: LineWaiter?
    private var lineWaiterGeneration = 0
    /// Output bytes already scanned for line ends, and the lines found in them.
    private var scannedCount = 0
    private var scannedLines = 0
    private var lastLineTime = 0.0

    private struct LineWaiter {
        var count: Int
        var idleTimeout: Double?
        var continuation: CheckedContinuation<ChildLines, Never>
    }

    private init(pid: pid_t, command: ChildCommand, input: Int32, output outputDescriptor: Int32, error: Int32, processDescriptor: Int32?, outputLimit: Int) {
        self.pid = pid
        self.command = command
        self.outputLimit = outputLimit
        inputDescriptor = input
        queue = DispatchQueue(label: "weir.child.\(pid)", target: DispatchQueue.global())
        queue.async { self.startSources(outputDescriptor: outputDescriptor, errorDescriptor: error, processDescriptor: processDescriptor) }
    }

    /// Starts `command` with pipes on its standard input, output and error. Its output is
    /// kept up to `outputLimit` bytes (for ``finished()``, or until ``lines(_:idleTimeout:)``
    /// takes it); with a `timeout` it is terminated (and ``ChildResult/timedOut`` set) if it
    /// has not finished by then.
    static func launch(_ command: ChildCommand, outputLimit: Int = 64 << 20, timeout: Double? = nil) throws(ChildSpawnError) -> ChildProcess {
        var inputPipe: [Int32] = [-1, -1], outputPipe: [Int32] = [-1, -1], errorPipe: [Int32] = [-1, -1]
        func closeAll() { for end in inputPipe + outputPipe + errorPipe where end >= 0 { SystemIO.closeQuietly(end) } }
        guard makePipe(&inputPipe), makePipe(&outputPipe), makePipe(&errorPipe) else {
            let code = errno
            closeAll()
            throw ChildSpawnError(code: code, command: command)
        }
        let spawned = ChildRegistry.spawn { () -> Result<pid_t, ChildRegistry.SystemError> in
            spawn(command, input: inputPipe[0], output: outputPipe[1], error: errorPipe[1])
        }
        // The child's ends are its own now.
        SystemIO.closeQuietly(inputPipe[0]); inputPipe[0] = -1
        SystemIO.closeQuietly(outputPipe[1]); outputPipe[1] = -1
        SystemIO.closeQuietly(errorPipe[1]); errorPipe[1] = -1
        let pid: pid_t
        switch spawned {
        case .success(let spawnedPid): pid = spawnedPid
        case .failure(let refusal):
            closeAll()
            switch refusal {
            case .closed: throw ChildSpawnError(code: 0, command: command)
            case .full: throw ChildSpawnError(code: EAGAIN, command: command)
            case .failed(let code): throw ChildSpawnError(code: code, command: command)
            }
        }
        for end in [inputPipe[1], outputPipe[0], errorPipe[0]] {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        let processDescriptor = pidFileDescriptor.flatMap { open in
            let descriptor = open(pid, 0)
            return descriptor >= 0 ? descriptor : nil
        }
        let child = ChildProcess(
            pid: pid, command: command, input: inputPipe[1], output: outputPipe[0], error: errorPipe[0],
            processDescriptor: processDescriptor, outputLimit: outputLimit)
        if let timeout {
            child.queue.asyncAfter(deadline: .now() + timeout) {
                guard !child.isComplete, !child.terminating else { return }
                child.timedOut = true
                child.beginTermination()
            }
        }
        return child
    }

    /// Runs `command` once with `input` on its standard input and waits for it to finish
    /// (suspending, never blocking a thread). A cancelled task terminates the child, and
    /// still returns only once it has been reaped.
    package static func run(_ command: ChildCommand, input: [UInt8], outputLimit: Int = 64 << 20, timeout: Double? = nil) async throws(ChildSpawnError) -> ChildResult {
        let child = try launch(command, outputLimit: outputLimit, timeout: timeout)
        child.send(input)
        child.closeInput()
        return await child.finished()
    }

    /// Queues `bytes` for the child's standard input (written as the pipe accepts them).
    /// Dropped if the child no longer reads (its input closed).
    package func send(_ bytes: [UInt8]) {
        queue.async {
            guard self.inputDescriptor >= 0, !self.inputCloseRequested else { return }
            if self.pendingInput.isEmpty {
                self.pendingInput = bytes
            } else {
                self.pendingInput.append(contentsOf: bytes)
            }
            self.flushInput()
        }
    }

    /// Closes the child's standard input once what was sent has been written (its end of input).
    func closeInput() {
        queue.async {
            self.inputCloseRequested = true
            self.flushInput()
        }
    }

    /// Waits for the child to finish: it has exited and been reaped, and its output and
    /// error pipes have closed. A cancelled task terminates it (and still waits for the reap).
    package func finished() async -> ChildResult {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildResult, Never>) in
                queue.async {
                    if self.isComplete {
                        continuation.resume(returning: self.result)
                    } else {
                        self.resultWaiters.append(continuation)
                    }
                }
            }
        } onCancel: {
            self.terminate()
        }
    }

    /// Waits for the next `count` whole lines of output (a co-process's answers), taking
    /// them from the output buffer. Fewer come when the output ends, a line is longer than
    /// the capture limit, or (with `idleTimeout`) no new line arrives for that many seconds.
    /// A cancelled task terminates the child. One caller at a time.
    package func lines(_ count: Int, idleTimeout: Double? = nil) async -> ChildLines {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildLines, Never>) in
                queue.async {
                    precondition(self.lineWaiter == nil, "one lines(_:) caller at a time")
                    self.lineWaiter = LineWaiter(count: count, idleTimeout: idleTimeout, continuation: continuation)
                    self.lineWaiterGeneration += 1
                    self.lastLineTime = SystemIO.monotonicSeconds()
                    self.serveLineWaiter()
                    if let idleTimeout, self.lineWaiter != nil { self.scheduleIdleCheck(idleTimeout, generation: self.lineWaiterGeneration) }
                }
            }
        } onCancel: {
            self.terminate()
        }
    }

    /// Ends the child: SIGTERM to its process group now, SIGKILL after ``killGrace``
    /// seconds if it has not finished by then. Its input is closed at once.
    func terminate() {
        queue.async { self.beginTermination() }
    }

    // MARK: - On the queue

    private var isComplete: Bool { exit != nil && outputEnded && errorEnded }

    private var result: ChildResult {
        ChildResult(exit: exit ?? .unknown, output: output, outputOverflowed: outputOverflowed, errorTail: errorTail, timedOut: timedOut)
    }

    private func startSources(outputDescriptor: Int32, errorDescriptor: Int32, processDescriptor: Int32?) {
        let loop = PollLoop.shared
        self.outputDescriptor = outputDescriptor
        loop.add(outputDescriptor, events: Int16(POLLIN), queue: queue) { self.readOutput(outputDescriptor) }
        self.errorDescriptor = errorDescriptor
        loop.add(errorDescriptor, events: Int16(POLLIN), queue: queue) { self.readError(errorDescriptor) }
        if let processDescriptor {
            self.processDescriptor = processDescriptor
            loop.add(processDescriptor, events: Int16(POLLIN), queue: queue) { self.reap(blocking: false) }
        }
    }

    /// Stops watching a descriptor and closes it.
    private func unwatch(_ descriptor: inout Int32) {
        guard descriptor >= 0 else { return }
        PollLoop.shared.remove(descriptor)
        SystemIO.closeQuietly(descriptor)
        descriptor = -1
    }

    private func flushInput() {
        guard inputDescriptor >= 0 else { return }
        while pendingOffset < pendingInput.count {
            let written = pendingInput.withUnsafeBytes { bytes in
                Glibc.write(inputDescriptor, bytes.baseAddress! + pendingOffset, bytes.count - pendingOffset)
            }
            if written > 0 {
                pendingOffset += written
                continue
            }
            if written < 0, errno == EINTR { continue }
            if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                watchInput()
                return
            }
            // EPIPE: the child does not read any more; what it was sent is dropped.
            closeInputNow()
            return
        }
        pendingInput.removeAll(keepingCapacity: pendingInput.capacity <= 1 << 20)
        pendingOffset = 0
        if inputWatchEnabled {
            PollLoop.shared.setEnabled(inputDescriptor, false)
            inputWatchEnabled = false
        }
        if inputCloseRequested { closeInputNow() }
    }

    private func watchInput() {
        if !inputWatched {
            let descriptor = inputDescriptor
            PollLoop.shared.add(descriptor, events: Int16(POLLOUT), queue: queue) { self.flushInput() }
            inputWatched = true
            inputWatchEnabled = true
        } else if !inputWatchEnabled {
            PollLoop.shared.setEnabled(inputDescriptor, true)
            inputWatchEnabled = true
        }
    }

    private func closeInputNow() {
        guard inputDescriptor >= 0 else { return }
        pendingInput = []
        pendingOffset = 0
        inputCloseRequested = true
        if inputWatched {
            PollLoop.shared.remove(inputDescriptor)
            inputWatched = false
        }
        SystemIO.closeQuietly(inputDescriptor)
        inputDescriptor = -1
    }

    // Each handler reads until the pipe is empty or ended: one readiness may stand for
    // data and the end together.

    private func readOutput(_ descriptor: Int32) {
        var ended = false
        var readAny = false
        withUnsafeTemporaryAllocation(byteCount: 65536, alignment: 16) { buffer in
            while true {
                let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 {
                    readAny = true
                    let room = outputLimit - output.count
                    if count <= room {
                        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    } else {
                        if room > 0 { output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<room])) }
                        outputOverflowed = true
                    }
                    continue
                }
                if count < 0, errno == EINTR { continue }
                if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
                ended = true
                return
            }
        }
        if ended {
            outputEnded = true
            unwatch(&outputDescriptor)
            serveLineWaiter()
            checkCompletion()
        } else if readAny {
            serveLineWaiter()
        }
    }

    private func readError(_ descriptor: Int32) {
        var ended = false
        withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 16) { buffer in
            while true {
                let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 {
                    errorTail.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    // Trimmed in steps (not on every read), to the last errorTailBytes at the end.
                    if errorTail.count > 2 * Self.errorTailBytes { errorTail.removeFirst(errorTail.count - Self.errorTailBytes) }
                    continue
                }
                if count < 0, errno == EINTR { continue }
                if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
                ended = true
                return
            }
        }
        guard ended else { return }
        if errorTail.count > Self.errorTailBytes { errorTail.removeFirst(errorTail.count - Self.errorTailBytes) }
        errorEnded = true
        unwatch(&errorDescriptor)
        checkCompletion()
    }

    /// Hands the waiting ``lines(_:idleTimeout:)`` caller its lines once enough have come
    /// (or the output ended, or a line overflowed the buffer).
    private func serveLineWaiter() {
        guard let waiter = lineWaiter else { return }
        output.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while scannedLines < waiter.count, scannedCount < bytes.count,
                  let newline = memchr(base + scannedCount, 0x0A, bytes.count - scannedCount) {
                scannedCount = base.distance(to: UnsafeRawPointer(newline)) + 1
                scannedLines += 1
                lastLineTime = SystemIO.monotonicSeconds()
            }
        }
        if scannedLines < waiter.count {
            // A line longer than the buffer can never end: the child is out of step.
            let overflowed = outputOverflowed || output.count - scannedCount >= outputLimit
            guard outputEnded || overflowed else { return }
            deliverLines(timedOut: false, overflowed: overflowed && !outputEnded)
            return
        }
        deliverLines(timedOut: false, overflowed: false)
    }

    private func deliverLines(timedOut: Bool, overflowed: Bool) {
        guard let waiter = lineWaiter else { return }
        lineWaiter = nil
        let taken = Array(output[..<scannedCount])
        output.removeFirst(scannedCount)
        let lines = ChildLines(bytes: taken, count: scannedLines, timedOut: timedOut, overflowed: overflowed)
        scannedCount = 0
        scannedLines = 0
        waiter.continuation.resume(returning: lines)
    }

    private func scheduleIdleCheck(_ idleTimeout: Double, generation: Int) {
        let due = lastLineTime + idleTimeout
        queue.asyncAfter(deadline: .now() + max(0, due - SystemIO.monotonicSeconds())) {
            guard self.lineWaiter != nil, self.lineWaiterGeneration == generation else { return }
            if SystemIO.monotonicSeconds() - self.lastLineTime >= idleTimeout {
                self.timedOut = true
                self.deliverLines(timedOut: true, overflowed: false)
            } else {
                self.scheduleIdleCheck(idleTimeout, generation: generation)
            }
        }
    }

    /// Reaps the child if it has exited (its pidfd is readable); `blocking` waits for it
    /// (the fallback without pidfds, on another queue, once the pipes have closed).
    private func reap(blocking: Bool) {
        guard exit == nil else { return }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while result < 0 && errno == EINTR
        if result == 0 { return }
        exit = result == pid ? ChildExit(waitStatus: status) : .unknown
        unwatch(&processDescriptor)
        checkCompletion()
    }

    private func checkCompletion() {
        if exit == nil, outputEnded, errorEnded, processDescriptor < 0, !reapScheduled {
            reapScheduled = true
            // No pidfd: both pipes closed, so the child has exited or is about to; wait for
            // it on a queue of its own, never on the child's queue or the pool.
            DispatchQueue.global(qos: .utility).async {
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(self.pid, &status, 0) } while result < 0 && errno == EINTR
                let ended = result == self.pid ? ChildExit(waitStatus: status) : ChildExit.unknown
                self.queue.async {
                    guard self.exit == nil else { return }
                    self.exit = ended
                    self.checkCompletion()
                }
            }
            return
        }
        guard isComplete else { return }
        closeInputNow()
        if !unregistered {
            unregistered = true
            ChildRegistry.unregister(pid)
        }
        let result = self.result
        for waiter in resultWaiters { waiter.resume(returning: result) }
        resultWaiters = []
        serveLineWaiter()
    }

    private func beginTermination() {
        closeInputNow()
        guard !isComplete, !terminating else { return }
        terminating = true
        ChildRegistry.signalGroup(pid, SIGTERM)
        queue.asyncAfter(deadline: .now() + Self.killGrace) {
            guard !self.isComplete else { return }
            ChildRegistry.signalGroup(self.pid, SIGKILL)
        }
    }

    // MARK: - Spawning

    /// `posix_spawnp` with the pipes on 0, 1 and 2, all else closed, its own process group,
    /// an empty signal mask and default signal actions.
    private static func spawn(_ command: ChildCommand, input: Int32, output: Int32, error: Int32) -> Result<pid_t, ChildRegistry.SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, error, 2)
        // Descriptors opened by others without close-on-exec (a library's) stay out too.
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU] {
            sigaddset(&defaults, number)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var argv: [UnsafeMutablePointer<CChar>?] = command.arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, command.program, &actions, &attributes, &argv, environ)
        return status == 0 ? .success(pid) : .failure(ChildRegistry.SystemError(code: status))
    }

    /// A pipe whose ends close on exec from the start (`pipe2(O_CLOEXEC)`, looked up at run
    /// time: the C library does not declare it for Swift), so that a child spawned by
    /// another worker at the same moment cannot inherit it; `pipe` and `fcntl` without it.
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        if let pipeWithFlags {
            return ends.withUnsafeMutableBufferPointer { pipeWithFlags($0.baseAddress!, O_CLOEXEC) } == 0
        }
        return SystemIO.makePipe(&ends, nonBlocking: false)
    }

    private static let pipeWithFlags: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    }()

    /// `pidfd_open(2)` (Linux 5.3, glibc 2.36), looked up at run time.
    private static let pidFileDescriptor: (@convention(c) (pid_t, UInt32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
    }()

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34), looked up at run time.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
}
