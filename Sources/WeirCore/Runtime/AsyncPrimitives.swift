import Synchronization

/// A counting semaphore for tasks: the runtime's bound on chunks in flight.
///
/// The reader takes a permit before it reads a chunk and the ordered writer gives it back
/// once that chunk's output is written, so at most `permits` chunks exist at once
/// wherever they are (queued, being worked on, or waiting to be put back in order). A slow
/// consumer therefore slows the reader: that is the backpressure.
package final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    /// A semaphore with `permits` initial permits.
    package init(permits: Int) {
        state = Mutex(State(permits: permits))
    }

    /// Takes a permit, waiting for one if none is free.
    package func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.permits > 0 {
                    state.permits -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Gives a permit back, waking one waiter.
    package func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}

/// A first-in first-out queue between tasks; bounded from outside by an ``AsyncSemaphore``.
package final class AsyncQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var finished = false
        var waiters: [CheckedContinuation<Element?, Never>] = []
    }
    private let state = Mutex(State())

    package init() {}

    /// Adds an element, handing it straight to a waiting receiver if there is one.
    package func send(_ element: Element) {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.items.append(element)
            return nil
        }
        waiter?.resume(returning: element)
    }

    /// Marks the end: receivers get `nil` once the queue is empty.
    package func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Element?, Never>] in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The next element, or `nil` after ``finish()`` once all elements were taken.
    package func receive() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let result = state.withLock { state -> Element?? in
                if state.head < state.items.count {
                    let element = state.items[state.head]
                    state.head += 1
                    if state.head > 64, state.head * 2 > state.items.count {
                        state.items.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(element)
                }
                if state.finished { return .some(nil) }
                state.waiters.append(continuation)
                return .none
            }
            if let result { continuation.resume(returning: result) }
        }
    }
}

/// Puts results that finish in any order back into sequence order.
///
/// Workers ``deliver(_:_:)`` results tagged with their chunk's sequence number; the writer
/// takes them with ``next()`` strictly in order 0, 1, 2, … The number of results held here
/// is bounded by the permits of the runtime's ``AsyncSemaphore``.
package final class OrderedResults<Element: Sendable>: Sendable {
    private struct State {
        var pending: [Int: Element] = [:]
        var nextSequence = 0
        var total: Int? = nil
        var waiter: CheckedContinuation<Element?, Never>? = nil
    }
    private let state = Mutex(State())

    package init() {}

    /// Hands in the result for chunk `sequence`.
    package func deliver(_ sequence: Int, _ element: Element) {
        let resume = state.withLock { state -> (CheckedContinuation<Element?, Never>, Element)? in
            if sequence == state.nextSequence, let waiter = state.waiter {
                state.waiter = nil
                state.nextSequence += 1
                return (waiter, element)
            }
            state.pending[sequence] = element
            return nil
        }
        if let (waiter, element) = resume { waiter.resume(returning: element) }
    }

    /// Declares that exactly `total` results will be delivered (sequences 0..<total).
    package func finish(total: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            state.total = total
            if state.nextSequence >= total, let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            return nil
        }
        waiter?.resume(returning: nil)
    }

    /// The next result in sequence order, or `nil` when all were taken.
    package func next() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let result = state.withLock { state -> Element?? in
                if let element = state.pending.removeValue(forKey: state.nextSequence) {
                    state.nextSequence += 1
                    return .some(element)
                }
                if let total = state.total, state.nextSequence >= total { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let result { continuation.resume(returning: result) }
        }
    }
}
