import Foundation
import Testing
@testable import WeirCore

/// A clock the test moves by hand: nothing here sleeps.
final class FakeClock: RateClock {
    var now: Double
    init(_ now: Double = 1000) { self.now = now }
}

@Suite struct RateTests {
    @Test func ratesParse() {
        #expect(Rate(parsing: "20/s")?.perSecond == 20)
        #expect(Rate(parsing: "100/m")?.perSecond == 100.0 / 60)
        #expect(Rate(parsing: "0.5/s")?.perSecond == 0.5)
        #expect(Rate(parsing: ".25/s")?.perSecond == 0.25)
        #expect(Rate(parsing: "3600/h")?.perSecond == 1)
        #expect(Rate(parsing: "7/m")?.description == "7/m")
        #expect(Rate(parsing: "1000000000/s")?.perSecond == 1e9)
    }

    @Test func badFormsAreRefused() {
        for bad in ["", "20", "20/", "/s", "-1/s", "+1/s", "0/s", "0.0/m", "1e3/s", "20/sec", "20/S", " 20/s", "20/s ",
                    "1.2.3/s", "5./s", "nan/s", "inf/s", "20/s/s", "2 0/s", "1_000/s", "1000000001/s", "99999999999999999999999/h"] {
            #expect(Rate(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func theOptionIsAUsageErrorWhenBad() throws {
        let options: [OptionSpec] = [.value("rate", "N/s", help: "")]
        #expect(try ParsedOptions(arguments: ["--rate", "5/m"], options: options).rate("rate")?.perSecond == 5.0 / 60)
        #expect(try ParsedOptions(arguments: [], options: options).rate("rate") == nil)
        #expect(throws: UsageError.self) { try ParsedOptions(arguments: ["--rate", "5"], options: options).rate("rate") }
    }
}

@Suite struct TokenBucketTests {
    @Test func aBurstOfOneSpacesEventsEvenly() {
        var bucket = TokenBucket(tokensPerSecond: 20, burst: 1, now: 0)
        #expect(bucket.take(at: 0) == 0)
        #expect(abs(bucket.take(at: 0) - 0.05) < 1e-12)
        #expect(abs(bucket.take(at: 0.03) - 0.02) < 1e-12)
        #expect(bucket.take(at: 0.05) == 0)
        // A long pause does not save up more than the burst.
        #expect(bucket.take(at: 10) == 0)
        #expect(bucket.take(at: 10) > 0)
    }

    @Test func aLargerBurstLetsARunThroughThenTheRate() {
        var bucket = TokenBucket(tokensPerSecond: 2, burst: 5, now: 0)
        for _ in 0..<5 { #expect(bucket.take(at: 0) == 0) }
        #expect(abs(bucket.take(at: 0) - 0.5) < 1e-12)
        #expect(bucket.take(at: 0.5) == 0)
        #expect(!bucket.isFull(at: 0.5))
        #expect(bucket.isFull(at: 3))
    }

    @Test func slowRatesWaitLong() {
        var bucket = TokenBucket(tokensPerSecond: 0.5, burst: 1, now: 0)
        #expect(bucket.take(at: 0) == 0)
        #expect(abs(bucket.take(at: 0) - 2) < 1e-12)
        #expect(abs(bucket.take(at: 1.5) - 0.5) < 1e-12)
    }

    @Test func theLimiterWaitsForEachToken() {
        let clock = FakeClock()
        var limiter = RateLimiter<Int, FakeClock>(tokensPerSecond: 20, burst: 1, clock: clock)
        var times: [Double] = []
        var waits = 0
        for _ in 0..<61 {
            let taken = limiter.acquire(0) { seconds in
                waits += 1
                clock.now += seconds
                return true
            }
            #expect(taken)
            times.append(clock.now)
        }
        #expect(waits == 60)
        #expect(abs(times.last! - times.first! - 3.0) < 1e-6)
        for (earlier, later) in zip(times, times.dropFirst()) { #expect(abs(later - earlier - 0.05) < 1e-6) }
    }

    @Test func aWaiterThatWakesEarlyIsSentBackForTheRest() {
        let clock = FakeClock()
        var limiter = RateLimiter<Int, FakeClock>(tokensPerSecond: 1, burst: 1, clock: clock)
        #expect(limiter.acquire(0) { _ in Issue.record("no wait for the first token"); return true })
        var waits: [Double] = []
        #expect(limiter.acquire(0) { seconds in
            waits.append(seconds)
            clock.now += min(seconds, 0.25)
            return true
        })
        #expect(waits.count == 4)
        #expect(abs(waits[0] - 1) < 1e-9 && abs(waits[3] - 0.25) < 1e-9)
    }

    @Test func givingUpTakesNoToken() {
        let clock = FakeClock()
        var limiter = RateLimiter<Int, FakeClock>(tokensPerSecond: 1, burst: 1, clock: clock)
        #expect(limiter.acquire(0) { _ in true })
        #expect(!limiter.acquire(0) { _ in false })
        clock.now += 1
        #expect(limiter.acquire(0) { _ in Issue.record("the token should be there"); return false })
    }

    @Test func eachKeyHasItsOwnBucket() {
        let clock = FakeClock()
        var limiter = RateLimiter<String, FakeClock>(tokensPerSecond: 10, burst: 1, clock: clock)
        var waited: [String: Double] = [:]
        for key in ["a", "b", "a", "c", "b", "a"] {
            #expect(limiter.acquire(key) { seconds in
                waited[key, default: 0] += seconds
                clock.now += seconds
                return true
            })
        }
        // a: t=0, b: t=0, a waits 0.1 (t=0.1), c: t=0.1, b: due at 0.1, a waits 0.1 (t=0.2).
        #expect(abs(waited["a", default: 0] - 0.2) < 1e-9)
        #expect(waited["b"] == nil && waited["c"] == nil)
        #expect(abs(clock.now - 1000.2) < 1e-9)
        #expect(limiter.bucketCount == 3)
    }

    @Test func idleKeysAreForgotten() {
        let clock = FakeClock()
        var limiter = RateLimiter<Int, FakeClock>(tokensPerSecond: 100, burst: 1, clock: clock)
        for key in 0..<100_000 {
            clock.now += 0.001
            #expect(limiter.acquire(key) { _ in Issue.record("a new key waited"); return true })
        }
        // Only the keys of the last 10 ms can be short of tokens: pruning keeps the table small.
        #expect(limiter.bucketCount <= 2048, "\(limiter.bucketCount)")
    }

    @Test func theMonotonicClockMoves() {
        let clock = MonotonicClock()
        let start = clock.now
        var end = clock.now
        while end == start { end = clock.now }
        #expect(end > start)
    }
}

@Suite struct OutputWaitTests {
    @Test func aClosedReaderIsNoticedAtOnce() throws {
        var ends: [Int32] = [-1, -1]
        #expect(SystemIO.makePipe(&ends, nonBlocking: false))
        let target = try OutputTarget(file: "/dev/fd/\(ends[1])")
        close(ends[1])
        #expect(!target.waitForReaderToLeave(upTo: 0.02))
        close(ends[0])
        let start = SystemIO.monotonicSeconds()
        #expect(target.waitForReaderToLeave(upTo: 30))
        #expect(SystemIO.monotonicSeconds() - start < 10)
        target.abandon()
    }

    @Test func aFileOutputJustSleeps() throws {
        let target = try OutputTarget(file: "/dev/null")
        let start = SystemIO.monotonicSeconds()
        #expect(!target.waitForReaderToLeave(upTo: 0.03))
        #expect(!target.waitForReaderToLeave(upTo: 0.0005))
        #expect(SystemIO.monotonicSeconds() - start >= 0.03)
        target.abandon()
    }
}
