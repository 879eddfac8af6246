import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every child process of the stage that may still be running, so that no way out of the
/// process leaves one behind: the run's normal end, a closed consumer (`| head -1`), the
/// first bad record under `--errors fail`, SIGINT/SIGTERM.
///
/// ``ChildProcess`` registers each child while spawning it (under the registry's lock, so a
/// sweep cannot miss a child spawned at the same moment) and unregisters it once it has been
/// reaped and its pipes have closed. ``StageInvocation/exit(with:)`` calls
/// ``terminateAll(grace:)``: SIGTERM to every child's process group, a grace period in
/// which they are reaped, then SIGKILL. ``SignalStop``'s last resort (a run that did not
/// stop in time, a second signal) calls ``killAllNow()``, which only calls `kill(2)` and is
/// safe in a signal handler: it reads a fixed table of slots, never the lock.
package enum ChildRegistry {
    /// The most children registered at once (the stages' concurrency is at most 4096).
    private static let capacity = 8192
    /// The registered process ids (0: a free slot). Written under `state`'s lock; read
    /// without it by ``killAllNow()`` (aligned 32-bit loads).
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<pid_t> = {
        let slots = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        return slots
    }()

    private struct State {
        var slotByProcess: [pid_t: Int] = [:]
        var freeSlots: [Int] = Array((0..<ChildRegistry.capacity).reversed())
        var closed = false
    }

    private static let state = Mutex(State())

    /// Why ``spawn(_:)`` did not start a child.
    package enum Refusal: Error {
        /// The process is ending: no child may start any more.
        case closed
        /// As many children as the registry holds are running.
        case full
        /// The spawn itself failed with this `errno`.
        case failed(Int32)
    }

    /// An `errno` as an error.
    struct SystemError: Error { var code: Int32 }

    /// Runs `body` (a `posix_spawn`, returning the new process id or an `errno`) under the
    /// registry's lock and registers its child; refuses once the process is ending.
    static func spawn(_ body: () -> Result<pid_t, SystemError>) -> Result<pid_t, Refusal> {
        state.withLock { state in
            if state.closed { return .failure(.closed) }
            guard let slot = state.freeSlots.popLast() else { return .failure(.full) }
            switch body() {
            case .success(let pid):
                slots[slot] = pid
                state.slotByProcess[pid] = slot
                return .success(pid)
            case .failure(let error):
                state.freeSlots.append(slot)
                return .failure(.failed(error.code))
            }
        }
    }

    /// Forgets a child that has been reaped and whose pipes have closed.
    static func unregister(_ pid: pid_t) {
        state.withLock { state in
            guard let slot = state.slotByProcess.removeValue(forKey: pid) else { return }
            slots[slot] = 0
            state.freeSlots.append(slot)
        }
    }

    /// The children registered now (for tests and the sweep).
    package static var registered: [pid_t] {
        state.withLock { Array($0.slotByProcess.keys) }
    }

    /// Sends SIGKILL to every registered child's process group at once. Only calls `kill(2)`:
    /// safe in a signal handler, for the last resort of ``SignalStop``.
    static func killAllNow() {
        for index in 0..<capacity {
            let pid = slots[index]
            if pid > 0 { _ = kill(-pid, SIGKILL) }
        }
    }

    /// Stops all spawning, then ends every registered child: SIGTERM to its process group,
    /// up to `grace` seconds for it to exit (reaped as it does), then SIGKILL and a final
    /// reap. Returns when no registered child is left running or unreaped.
    static func terminateAll(grace: Double = 0.5) {
        let children = state.withLock { state -> [pid_t] in
            state.closed = true
            return Array(state.slotByProcess.keys)
        }
        guard !children.isEmpty else { return }
        for pid in children { signalGroup(pid, SIGTERM) }
        var running = Set(children)
        let deadline = SystemIO.monotonicSeconds() + grace
        while !running.isEmpty {
            for pid in running where isReaped(pid, blocking: false) { running.remove(pid) }
            if running.isEmpty || SystemIO.monotonicSeconds() >= deadline { break }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        // Grandchildren (a --shell's pipeline) share the group: SIGKILL reaches them too.
        for pid in children { signalGroup(pid, SIGKILL) }
        for pid in running { _ = isReaped(pid, blocking: true) }
        for pid in children { unregister(pid) }
    }

    /// Sends `signalNumber` to the process group `pid` leads (or to `pid` alone if it has none).
    static func signalGroup(_ pid: pid_t, _ signalNumber: Int32) {
        if kill(-pid, signalNumber) != 0 { _ = kill(pid, signalNumber) }
    }

    /// Reaps `pid` if it has exited; true when it is gone (reaped now, or by someone else).
    private static func isReaped(_ pid: pid_t, blocking: Bool) -> Bool {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return true }
            if result == 0 { return false }
            if errno == EINTR { continue }
            return true  // ECHILD: reaped already
        }
    }
}
