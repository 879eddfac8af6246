import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread that waits in `poll(2)` on the descriptors of every child process (its pipes
/// and pidfd) and runs each one's handler on that child's serial queue when it is ready.
///
/// Why not `DispatchSourceRead`/`DispatchSourceWrite`: on Linux, libdispatch's epoll
/// bookkeeping can use a freed entry when sources are created and cancelled quickly on
/// many threads (swift-corelibs-libdispatch issue 949; swift-subprocess left it for the
/// same reason), which is exactly what a process per record does. This loop is small and
/// owns its descriptors' lifetime: ``remove(_:)`` forgets a descriptor at once, so it may
/// be closed right after.
///
/// A ready descriptor is disarmed until its handler has run (one-shot, so a readable pipe
/// is not reported again while its handler is queued), then re-armed. Handlers read or
/// write until `EAGAIN`; a stale readiness (a descriptor number reused after a close) only
/// costs a handler that finds nothing to do.
final class PollLoop: @unchecked Sendable {
    /// The process's loop (its thread starts with the first child).
    static let shared = PollLoop()

    private struct Watch {
        var identifier: Int
        var events: Int16
        var queue: DispatchQueue
        var handler: @Sendable () -> Void
        /// False while its handler is queued or running.
        var armed = true
        /// False while the owner does not want events (a write watch with nothing to write).
        var enabled = true
    }

    private let watches = Mutex<(byDescriptor: [Int32: Watch], nextIdentifier: Int)>(([:], 1))
    private var wakeEnds: [Int32] = [-1, -1]

    private init() {
        if SystemIO.makePipe(&wakeEnds, nonBlocking: true) {
            _ = fcntl(wakeEnds[0], F_SETFL, fcntl(wakeEnds[0], F_GETFL) | O_NONBLOCK)
        }
        DispatchQueue(label: "weir.children").async { self.run() }
    }

    /// Watches `descriptor` for `events` (`POLLIN`, `POLLOUT`; hang-ups and errors always
    /// count), running `handler` on `queue` when it is ready.
    func add(_ descriptor: Int32, events: Int16, queue: DispatchQueue, handler: @escaping @Sendable () -> Void) {
        watches.withLock { state in
            state.byDescriptor[descriptor] = Watch(identifier: state.nextIdentifier, events: events, queue: queue, handler: handler)
            state.nextIdentifier += 1
        }
        wake()
    }

    /// Pauses (false) or resumes (true) the events of a watched descriptor.
    func setEnabled(_ descriptor: Int32, _ enabled: Bool) {
        let changed = watches.withLock { state -> Bool in
            guard state.byDescriptor[descriptor] != nil, state.byDescriptor[descriptor]!.enabled != enabled else { return false }
            state.byDescriptor[descriptor]!.enabled = enabled
            return true
        }
        if changed, enabled { wake() }
    }

    /// Stops watching `descriptor`; it may be closed as soon as this returns.
    func remove(_ descriptor: Int32) {
        watches.withLock { _ = $0.byDescriptor.removeValue(forKey: descriptor) }
        wake()
    }

    private func wake() {
        SystemIO.writeWakeByte(wakeEnds[1])
    }

    private func rearm(_ descriptor: Int32, _ identifier: Int) {
        let rearmed = watches.withLock { state -> Bool in
            guard state.byDescriptor[descriptor]?.identifier == identifier else { return false }
            state.byDescriptor[descriptor]!.armed = true
            return true
        }
        if rearmed { wake() }
    }

    private func run() {
        var requests: [pollfd] = []
        var identifiers: [Int] = []
        var drain = [UInt8](repeating: 0, count: 256)
        while true {
            requests.removeAll(keepingCapacity: true)
            identifiers.removeAll(keepingCapacity: true)
            requests.append(pollfd(fd: wakeEnds[0], events: Int16(POLLIN), revents: 0))
            identifiers.append(0)
            watches.withLock { state in
                for (descriptor, watch) in state.byDescriptor where watch.armed && watch.enabled {
                    requests.append(pollfd(fd: descriptor, events: watch.events, revents: 0))
                    identifiers.append(watch.identifier)
                }
            }
            let result = poll(&requests, nfds_t(requests.count), -1)
            if result < 0 { continue }  // EINTR
            if requests[0].revents != 0 {
                while read(wakeEnds[0], &drain, drain.count) > 0 {}
            }
            for index in 1..<requests.count where requests[index].revents != 0 {
                let descriptor = requests[index].fd
                let identifier = identifiers[index]
                let ready = watches.withLock { state -> (DispatchQueue, @Sendable () -> Void)? in
                    guard var watch = state.byDescriptor[descriptor], watch.identifier == identifier, watch.armed else { return nil }
                    if requests[index].revents & Int16(POLLNVAL) != 0 { return nil }
                    watch.armed = false
                    state.byDescriptor[descriptor] = watch
                    return (watch.queue, watch.handler)
                }
                guard let (queue, handler) = ready else { continue }
                queue.async {
                    handler()
                    self.rearm(descriptor, identifier)
                }
            }
        }
    }
}
