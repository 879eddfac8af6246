import Synchronization

// Every wait in the runtime goes through one of these three types, and each of them resumes
// its waiter when the waiting task is cancelled: a stopped run (a satisfied `weir-head`, a
// closed consumer, SIGTERM) never leaves a task parked on a continuation. Each waiter gets an
// id so that its cancellation handler can find it and take it out exactly once.

/// A counting semaphore for tasks: the runtime's bound on chunks in flight.
///
/// The reader takes a permit before it reads a chunk and the ordered writer gives it back
/// once that chunk's output is written, so at most `permits` chunks exist at once
/// wherever they are (queued, being worked on, or waiting to be put back in order). A slow
/// consumer therefore slows the reader: that is the backpressure.
package final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var nextWaiter = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let state: Mutex<State>

    /// A semaphore with `permits` initial permits.
    package init(permits: Int) {
        state = Mutex(State(permits: permits))
    }

    /// Takes a permit, waiting for one if none is free. Returns false, without a permit,
    /// when the task is (or gets) cancelled.
    @discardableResult
    package func acquire() async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resume = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.permits > 0 {
                        state.permits -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    /// Gives a permit back, waking one waiter.
    package func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: true)
    }
}

/// A first-in first-out queue between tasks; bounded from outside by an ``AsyncSemaphore``.
package final class AsyncQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var finished = false
        var nextWaiter = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Element?, Never>)] = []
    }
    private let state = Mutex(State())

    package init() {}

    /// Adds an element, handing it straight to a waiting receiver if there is one.
    package func send(_ element: Element) {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
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
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The next element, or `nil` after ``finish()`` once all elements were taken, or
    /// when the receiving task is cancelled.
    package func receive() async -> Element? {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let result = state.withLock { state -> Element?? in
                    if Task.isCancelled { return .some(nil) }
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
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
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
        /// In completion order: results delivered and not yet taken, oldest first.
        var arrived: [Element] = []
        var arrivedStart = 0
        /// Results taken so far (in sequence order: the next sequence wanted).
        var taken = 0
        var total: Int? = nil
        var waiter: CheckedContinuation<Element?, Never>? = nil
    }
    private let state = Mutex(State())
    /// True when results are handed out as they are delivered, not in sequence order.
    private let inCompletionOrder: Bool

    /// Results in sequence order, or with `inCompletionOrder` in the order they are delivered
    /// (`weir-fetch --unordered`: a slow result holds nothing back).
    package init(inCompletionOrder: Bool = false) {
        self.inCompletionOrder = inCompletionOrder
    }

    /// Hands in the result for chunk `sequence`.
    package func deliver(_ sequence: Int, _ element: Element) {
        let resume = state.withLock { state -> (CheckedContinuation<Element?, Never>, Element)? in
            if let waiter = state.waiter, inCompletionOrder || sequence == state.taken {
                state.waiter = nil
                state.taken += 1
                return (waiter, element)
            }
            if inCompletionOrder {
                state.arrived.append(element)
            } else {
                state.pending[sequence] = element
            }
            return nil
        }
        if let (waiter, element) = resume { waiter.resume(returning: element) }
    }

    /// Declares that exactly `total` results will be delivered (sequences 0..<total).
    package func finish(total: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            state.total = total
            if state.taken >= total, let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            return nil
        }
        waiter?.resume(returning: nil)
    }

    /// The next result (in sequence order, or the oldest delivered in completion order), or
    /// `nil` when all were taken or the (single) receiving task is cancelled.
    package func next() async -> Element? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let result = state.withLock { state -> Element?? in
                    if Task.isCancelled { return .some(nil) }
                    if let element = Self.take(&state, inCompletionOrder: inCompletionOrder) { return .some(element) }
                    if let total = state.total, state.taken >= total { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    private static func take(_ state: inout State, inCompletionOrder: Bool) -> Element? {
        if inCompletionOrder {
            guard state.arrivedStart < state.arrived.count else { return nil }
            let element = state.arrived[state.arrivedStart]
            state.arrivedStart += 1
            if state.arrivedStart >= 64, state.arrivedStart * 2 >= state.arrived.count {
                state.arrived.removeFirst(state.arrivedStart)
                state.arrivedStart = 0
            }
            state.taken += 1
            return element
        }
        guard let element = state.pending.removeValue(forKey: state.taken) else { return nil }
        state.taken += 1
        return element
    }
}

/// Hands a value that is not `Sendable` from one task to another that takes it over: the
/// sender must not touch it afterwards (a worker's transform, passed to the writer once the
/// worker has finished).
package final class Handover<Value>: @unchecked Sendable {
    /// The value handed over.
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
