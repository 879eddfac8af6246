/// A token bucket: holds up to ``burst`` tokens, refilled continuously at ``tokensPerSecond``;
/// each event takes one token, and an event that finds none must wait for the next.
///
/// Over any span of `t` seconds at most `burst + tokensPerSecond · t` events pass: with
/// `burst` 1 they are evenly spaced, a larger burst lets a short run through at once after a
/// quiet spell. A bucket starts full. It holds no clock: every call says what time it is
/// (seconds on any monotonic clock), which is what makes it testable without sleeping.
package struct TokenBucket: Sendable {
    /// The refill rate.
    package let tokensPerSecond: Double
    /// The most tokens the bucket holds (≥ 1).
    package let burst: Double
    private var tokens: Double
    private var updated: Double

    /// A full bucket at time `now`.
    package init(tokensPerSecond: Double, burst: Int, now: Double) {
        precondition(tokensPerSecond > 0 && burst >= 1, "bad token bucket")
        self.tokensPerSecond = tokensPerSecond
        self.burst = Double(burst)
        tokens = Double(burst)
        updated = now
    }

    /// A whisker under one token still counts as one, so that a waiter that slept exactly
    /// the delay it was given is never sent back for a few nanoseconds of rounding.
    private static let tolerance = 1e-9

    private mutating func refill(at now: Double) {
        if now > updated {
            tokens = min(burst, tokens + (now - updated) * tokensPerSecond)
            updated = now
        }
    }

    /// Takes a token if there is one at `now` and returns 0; otherwise takes nothing and
    /// returns the seconds until there will be one.
    package mutating func take(at now: Double) -> Double {
        refill(at: now)
        if tokens + Self.tolerance >= 1 {
            tokens = max(0, tokens - 1)
            return 0
        }
        return (1 - tokens) / tokensPerSecond
    }

    /// True when the bucket is full at `now`: it then behaves exactly like a new one.
    package func isFull(at now: Double) -> Bool {
        tokens + max(0, now - updated) * tokensPerSecond + Self.tolerance >= burst
    }
}

/// Where a ``RateLimiter`` reads the time: ``MonotonicClock``, or a fake clock in tests.
package protocol RateClock {
    /// Seconds on a clock that never goes back.
    var now: Double { get }
}

/// The system's monotonic clock (`CLOCK_MONOTONIC`).
package struct MonotonicClock: RateClock, Sendable {
    package init() {}
    package var now: Double { SystemIO.monotonicSeconds() }
}

/// A rate limit applied per key: each key its own ``TokenBucket`` (all with the same rate and
/// burst), made on the key's first event.
///
/// Buckets that have filled up again are forgotten from time to time (a full bucket is the
/// same as a new one), so memory follows the keys seen within the last `burst / rate`
/// seconds, not every key ever seen.
package struct RateLimiter<Key: Hashable, Clock: RateClock> {
    /// Events per second, for every key.
    package let tokensPerSecond: Double
    /// Tokens each key's bucket holds.
    package let burst: Int
    /// The clock read before each attempt.
    package let clock: Clock
    private var buckets: [Key: TokenBucket] = [:]
    private var pruneAbove = 1024

    /// A limiter of `tokensPerSecond` (> 0) events a second per key, `burst` (≥ 1) at once.
    package init(tokensPerSecond: Double, burst: Int, clock: Clock) {
        self.tokensPerSecond = tokensPerSecond
        self.burst = burst
        self.clock = clock
    }

    /// The number of keys with a bucket now.
    package var bucketCount: Int { buckets.count }

    /// Takes a token for `key`, waiting as long as it takes: while there is none, calls
    /// `wait` with the seconds until there will be one (it may wait less: the clock is read
    /// again), and gives up, returning false, when `wait` returns false (the run stopped).
    /// Returns true once the token is taken.
    package mutating func acquire<Failure: Error>(_ key: Key, wait: (Double) throws(Failure) -> Bool) throws(Failure) -> Bool {
        while true {
            let delay = take(key)
            if delay <= 0 { return true }
            guard try wait(delay) else { return false }
        }
    }

    /// Takes a token for `key` if there is one now and returns 0; otherwise takes nothing
    /// and returns the seconds until there will be one (for callers that wait themselves:
    /// an async task sleeps, then calls again).
    package mutating func take(_ key: Key) -> Double {
        let now = clock.now
        let fresh = TokenBucket(tokensPerSecond: tokensPerSecond, burst: burst, now: now)
        let delay = buckets[key, default: fresh].take(at: now)
        if delay <= 0 { prune(at: now) }
        return delay
    }

    /// Forgets the full buckets once there are more than a threshold, which then doubles
    /// from what is left (amortized constant time per event).
    private mutating func prune(at now: Double) {
        guard buckets.count > pruneAbove else { return }
        buckets = buckets.filter { !$0.value.isFull(at: now) }
        pruneAbove = max(1024, buckets.count * 2)
    }
}
