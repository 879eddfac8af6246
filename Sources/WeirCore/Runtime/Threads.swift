import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A task executor backed by one thread of its own, for a task that makes blocking system
/// calls: the writer, when its `write(2)` may wait on a stalled pipe or its sink sleeps.
///
/// Swift's cooperative pool has one thread per core; a task blocked in a system call there
/// takes a core away from every other task (on two cores, half of them). A task started
/// with this executor as its preference (`group.addTask(executorPreference:)`) runs all its
/// synchronous code on this thread instead, and its child tasks inherit the preference
/// unless they name another (the workers name ``globalConcurrentExecutor``).
package final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    /// An executor on a new serial queue (one thread at a time, its own).
    package init(label: String) {
        queue = DispatchQueue(label: "weir.\(label)")
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension SystemIO {
    /// Creates a pipe whose ends close on exec (the write end non-blocking when asked).
    package static func makePipe(_ ends: inout [Int32], nonBlocking: Bool) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        if nonBlocking { _ = fcntl(ends[1], F_SETFL, O_NONBLOCK) }
        return true
    }
}

/// A latch that wakes readers blocked in `poll(2)` when the run stops.
///
/// A reader waiting on a slow pipe or FIFO cannot see task cancellation while it sits in a
/// system call; it polls its descriptor together with this latch's pipe, and ``fire()``
/// (called from the run's cancellation) makes that poll return at once.
package final class StopLatch: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32
    private let fired = Atomic<Bool>(false)
    private let callbacks = Mutex<[@Sendable () -> Void]>([])

    package init() {
        var ends: [Int32] = [-1, -1]
        if !SystemIO.makePipe(&ends, nonBlocking: true) { ends = [-1, -1] }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if readEnd >= 0 { SystemIO.closeQuietly(readEnd) }
        if writeEnd >= 0 { SystemIO.closeQuietly(writeEnd) }
    }

    /// True once ``fire()`` was called.
    package var isFired: Bool { fired.load(ordering: .acquiring) }

    /// Wakes every waiter, now and later.
    package func fire() {
        guard !fired.exchange(true, ordering: .acquiringAndReleasing) else { return }
        SystemIO.writeWakeByte(writeEnd)
        for callback in callbacks.withLock({ list in defer { list.removeAll() }; return list }) { callback() }
    }

    /// Runs a blocking call (the `open(2)` of a FIFO that waits for its writer) on `queue`'s
    /// thread while the calling task waits suspended; nil when the latch fires first, and
    /// then the call's result, when it comes, goes to `discard` (to close a descriptor).
    func perform<Result: Sendable>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () -> Result, discard: @escaping @Sendable (Result) -> Void
    ) async -> Result? {
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
            let once = ResumeOnce(continuation)
            callbacks.withLock { $0.append { _ = once.resume(nil) } }
            if isFired { _ = once.resume(nil) }
            queue.async {
                let result = body()
                if !once.resume(result) { discard(result) }
            }
        }
    }

    /// Suspends the calling task (blocking no thread of the pool) until `descriptor` is
    /// readable, waiting on `queue`'s thread; false when the latch fired first.
    package func readable(_ descriptor: Int32, on queue: DispatchQueue) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            queue.async { continuation.resume(returning: self.waitUntilReadable(descriptor)) }
        }
    }

    /// Waits until `descriptor` is readable (or at its end); false when the latch fired first.
    package func waitUntilReadable(_ descriptor: Int32) -> Bool {
        wait(descriptor, events: Int16(POLLIN)) { _ in true }
    }

    /// Waits until the reader of `descriptor` (a pipe's write end) goes away: true then,
    /// false when the latch fired first. Lets a stage whose consumer exited stop at once,
    /// even while it has nothing to write (its input is slow).
    func waitForHangUp(_ descriptor: Int32) -> Bool {
        wait(descriptor, events: 0) { $0 & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 }
    }

    /// Polls `descriptor` for `events` together with the latch until `isDone` accepts what
    /// was returned (true) or the latch fires (false).
    private func wait(_ descriptor: Int32, events: Int16, until isDone: (Int16) -> Bool) -> Bool {
        var requests = [
            pollfd(fd: descriptor, events: events, revents: 0),
            pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            if isFired { return false }
            let result = poll(&requests, readEnd >= 0 ? 2 : 1, -1)
            if result < 0 {
                if errno == EINTR { continue }
                return true  // a bad descriptor: the caller's own call reports it
            }
            if requests[1].revents != 0 || isFired { return false }
            if isDone(requests[0].revents) { return true }
        }
    }
}

/// A continuation resumed by whichever of two parties comes first; the other learns it lost.
private final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value?, Never>?>

    init(_ continuation: CheckedContinuation<Value?, Never>) { self.continuation = Mutex(continuation) }

    /// Resumes with `value`; false when it had been resumed already.
    func resume(_ value: Value?) -> Bool {
        guard let continuation = continuation.withLock({ stored in defer { stored = nil }; return stored }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}

/// Turns SIGINT, SIGTERM and SIGHUP into a stop of the run, so that transforms and sinks
/// clean up on the way out (temporary files removed, child processes reaped), and removes
/// registered temporary files itself as the last resort.
///
/// The handler only calls async-signal-safe functions: it writes the signal number to a
/// pipe. A watcher thread reads it and calls the run's stop handler; if the run has not
/// ended within a grace period (a writer blocked on a stalled pipe), or a second signal
/// arrives, the registered paths are unlinked and the signal is raised again with its
/// default action, so the exit status is the signal's.
package enum SignalStop {
    private nonisolated(unsafe) static var paths: [UnsafeMutablePointer<CChar>] = []
    private nonisolated(unsafe) static var pipeEnds: [Int32] = [-1, -1]
    private nonisolated(unsafe) static var installed = false
    private static let handler = Mutex<(@Sendable (Int32) -> Void)?>(nil)
    private static let received = Atomic<Int32>(0)
    /// Serializes the changes to `paths` and the installation: runs in one process (the
    /// runtime's tests) may open and commit outputs at once. The signal handler itself never
    /// takes it (a lock is not async-signal-safe); it reads `paths` as it stands.
    private static let registry = Mutex(())

    /// The seconds a stopped run may take to clean up before the watcher ends it.
    static let gracePeriod = 2.0

    /// The signal that stopped the run, if one did.
    static var receivedSignal: Int32? {
        let value = received.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    /// Takes over SIGINT, SIGTERM and SIGHUP now, before any work starts: a signal that
    /// arrives before ``onSignal(_:)`` ends the process at once (temporary paths removed,
    /// children killed). Without it a child could be started first, and a stage started as a
    /// background job of a script (SIGINT ignored) would not yet be listening.
    static func prepare() {
        install()
    }

    /// Calls `stop` (once, from a watcher thread) when a terminating signal arrives.
    static func onSignal(_ stop: @escaping @Sendable (Int32) -> Void) {
        install()
        handler.withLock { $0 = stop }
    }

    /// Registers a temporary path to remove if the run cannot clean up after a signal.
    package static func register(_ path: String) {
        install()
        registry.withLock { _ in paths.append(strdup(path)) }
    }

    /// Forgets a registered path (it was renamed into place or removed).
    package static func unregister(_ path: String) {
        registry.withLock { _ in
            paths.removeAll { entry in
                guard String(cString: entry) == path else { return false }
                free(entry)
                return true
            }
        }
    }

    /// Forgets several registered paths in one pass (a set of files put in place together).
    package static func unregister(_ removed: Set<String>) {
        guard !removed.isEmpty else { return }
        registry.withLock { _ in
            paths.removeAll { entry in
                guard removed.contains(String(cString: entry)) else { return false }
                free(entry)
                return true
            }
        }
    }

    /// How many registered paths start with `prefix` (for tests).
    package static func registeredPathCount(withPrefix prefix: String) -> Int {
        registry.withLock { _ in paths.filter { String(cString: $0).hasPrefix(prefix) }.count }
    }

    /// Unlinks the registered paths, kills the registered child processes (``ChildRegistry``),
    /// and ends the process with `signalNumber`'s default action.
    static func endBySignal(_ signalNumber: Int32) -> Never {
        for path in paths { unlink(path) }
        ChildRegistry.killAllNow()
        signal(signalNumber, SIG_DFL)
        raise(signalNumber)
        _exit(128 + signalNumber)
    }

    private static func install() {
        let first = registry.withLock { _ -> Bool in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        if !SystemIO.makePipe(&pipeEnds, nonBlocking: false) { pipeEnds = [-1, -1] }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { number in
                if SignalStop.pipeEnds[1] < 0 || SignalStop.received.load(ordering: .relaxed) != 0 {
                    // No watcher, or a second signal: clean up and end now.
                    for path in SignalStop.paths { unlink(path) }
                    ChildRegistry.killAllNow()
                    signal(number, SIG_DFL)
                    raise(number)
                    return
                }
                SignalStop.received.store(number, ordering: .releasing)
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(SignalStop.pipeEnds[1], &byte, 1)
            }
        }
        let readEnd = pipeEnds[0]
        guard readEnd >= 0 else { return }
        DispatchQueue(label: "weir.signals").async {
            var byte: UInt8 = 0
            while Glibc.read(readEnd, &byte, 1) < 0, errno == EINTR {}
            let number = Int32(byte)
            if let stop = handler.withLock({ $0 }) {
                stop(number)
                var pause = timespec(tv_sec: Int(gracePeriod), tv_nsec: 0)
                var remaining = timespec()
                while nanosleep(&pause, &remaining) != 0, errno == EINTR { pause = remaining }
            }
            endBySignal(number)
        }
    }
}
