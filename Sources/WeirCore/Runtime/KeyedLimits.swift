import Synchronization

/// Limits per key for tasks that await: at most N at once per key (``KeyedSemaphore``), at
/// most R a second per key (``AsyncRateLimiter``). `weir-fetch --max-per-key` and
/// `--rate-by` use them; the key is whatever the stage computes (a host, a field's value).

/// At most ``limit`` holders per key at once; waiters for a key are served first come,
/// first served, and a cancelled waiter leaves without a permit. Memory follows the keys
/// held or waited for now: a key with no holder and no waiter is forgotten.
package final class KeyedSemaphore<Key: Hashable & Sendable>: Sendable {
    private struct Entry {
        var held = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private struct State {
        var entries: [Key: Entry] = [:]
        var nextWaiter = 0
    }
    /// Holders allowed per key.
    package let limit: Int
    private let state = Mutex(State())

    package init(limit: Int) {
        precondition(limit >= 1, "a keyed semaphore needs a limit of at least 1")
        self.limit = limit
    }

    /// The keys held or waited for now.
    package var keyCount: Int { state.withLock { $0.entries.count } }

    /// Takes a permit for `key`, waiting while `limit` tasks hold one. Returns false, with
    /// no permit, when the task is (or gets) cancelled.
    package func acquire(_ key: Key) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resume = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    var entry = state.entries[key, default: Entry()]
                    defer { state.entries[key] = entry }
                    if entry.held < limit, entry.waiters.isEmpty {
                        entry.held += 1
                        return true
                    }
                    entry.waiters.append((id, continuation))
                    return nil
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard var entry = state.entries[key], let index = entry.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                let waiter = entry.waiters.remove(at: index).continuation
                state.entries[key] = entry.held == 0 && entry.waiters.isEmpty ? nil : entry
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }

    /// Gives back a permit for `key`, handing it to the key's first waiter if there is one.
    package func release(_ key: Key) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard var entry = state.entries[key] else { return nil }
            if entry.waiters.isEmpty {
                entry.held -= 1
                state.entries[key] = entry.held == 0 ? nil : entry
                return nil
            }
            let waiter = entry.waiters.removeFirst().continuation
            state.entries[key] = entry
            return waiter
        }
        waiter?.resume(returning: true)
    }
}

/// A ``RateLimiter`` for tasks: ``acquire(_:)`` sleeps (cancellably) until the key's bucket
/// has a token. A task that wakes to find the token taken by another sleeps again for the
/// next one.
package final class AsyncRateLimiter<Key: Hashable & Sendable>: Sendable {
    private let limiter: Mutex<RateLimiter<Key, MonotonicClock>>

    /// `tokensPerSecond` (> 0) events a second per key, `burst` (≥ 1) at once.
    package init(tokensPerSecond: Double, burst: Int) {
        limiter = Mutex(RateLimiter(tokensPerSecond: tokensPerSecond, burst: burst, clock: MonotonicClock()))
    }

    /// Waits for a token for `key`; returns false, with none taken, when the task is cancelled.
    package func acquire(_ key: Key) async -> Bool {
        while true {
            if Task.isCancelled { return false }
            let delay = limiter.withLock { $0.take(key) }
            if delay <= 0 { return true }
            do {
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9) + 1)
            } catch {
                return false
            }
        }
    }
}
