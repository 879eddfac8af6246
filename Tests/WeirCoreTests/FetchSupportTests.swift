import Foundation
import Synchronization
import Testing
@testable import WeirCore

/// The pieces weir-fetch is glue over: durations, retries, Retry-After, per-key limits, the cache.
@Suite struct FetchSupportTests {
    @Test func durationsReadAsTimeoutAndCurlUsersWriteThem() {
        #expect(DurationText.seconds("10s") == 10)
        #expect(DurationText.seconds("500ms") == 0.5)
        #expect(DurationText.seconds("1.5") == 1.5)
        #expect(DurationText.seconds("2m") == 120)
        #expect(DurationText.seconds("1h") == 3600)
        #expect(DurationText.seconds("250us") == 0.00025)
        for bad in ["", "s", "-1s", "1x", "ms", "1e3", "inf", "1 s", "nan"] {
            #expect(DurationText.seconds(bad) == nil, "\(bad)")
        }
        #expect(DurationText.text(0.5) == "500 ms")
        #expect(DurationText.text(10) == "10 s")
    }

    @Test func retryConditionsParseAndDecide() throws {
        let standard = RetryPolicy.Conditions.standard
        #expect(standard.retries(status: 429) && standard.retries(status: 503) && standard.retries(status: 500))
        #expect(!standard.retries(status: 404) && !standard.retries(status: 200))
        #expect(standard.retries(.timedOut(seconds: 1)) && standard.retries(.connect("refused")))
        #expect(!standard.retries(.cancelled) && !standard.retries(.bodyTooLarge(limit: 1)))
        let custom = try #require(RetryPolicy.Conditions(parsing: "timeout, 503,4xx"))
        #expect(custom.retries(status: 503) && custom.retries(status: 404) && !custom.retries(status: 500))
        #expect(custom.retries(.timedOut(seconds: 1)) && !custom.retries(.connect("refused")))
        let none = try #require(RetryPolicy.Conditions(parsing: "none"))
        #expect(!none.retries(status: 503) && !none.retries(.timedOut(seconds: 1)))
        for bad in ["", "5x", "600", "connect,", "sometimes", "6xx"] {
            #expect(RetryPolicy.Conditions(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func backoffIsFullJitterUnderADoublingCap() {
        let policy = RetryPolicy(retries: 5, baseDelay: 0.25, maxDelay: 1)
        var generator = SplitMix64(seed: 7)
        for retry in 1...6 {
            let ceiling = min(1, 0.25 * pow(2, Double(retry - 1)))
            let waits = (0..<200).map { _ in policy.backoff(retry: retry, using: &generator) }
            #expect(waits.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(waits.max()! > ceiling * 0.8 && waits.min()! < ceiling * 0.2, "spread over 0...\(ceiling)")
        }
    }

    @Test func retryAfterTakesSecondsAndAllThreeDateForms() {
        let now = 784_111_777.0  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds(" 3 ", now: now) == 3)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == 10)
        #expect(RetryAfter.seconds("Sunday, 06-Nov-94 08:49:57 GMT", now: now) == 20)
        #expect(RetryAfter.seconds("Sun Nov  6 08:50:07 1994", now: now) == 30)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == 0, "a past date waits 0")
        #expect(HTTPDate.epochSeconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.epochSeconds("Tue, 29 Feb 2028 12:00:00 GMT") == 1_835_438_400)
        for bad in ["soon", "-5", "1.5", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT"] {
            #expect(RetryAfter.seconds(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func hostPausesHoldBackOnlyThatHost() async {
        let pauses = HostPauses()
        pauses.pause("a", for: 0.2)
        let start = SystemIO.monotonicSeconds()
        #expect(await pauses.wait("b"))
        #expect(SystemIO.monotonicSeconds() - start < 0.15, "another host is not paused")
        #expect(await pauses.wait("a"))
        #expect(SystemIO.monotonicSeconds() - start >= 0.2)
        pauses.pause("a", for: 30)
        let waiter = Task { await pauses.wait("a") }
        waiter.cancel()
        #expect(await waiter.value == false)
    }

    @Test func keyedSemaphoreHoldsEachKeyToItsLimit() async {
        let semaphore = KeyedSemaphore<String>(limit: 2)
        final class Peaks: Sendable {
            let now = Mutex<[String: Int]>([:])
            let peak = Mutex<[String: Int]>([:])
        }
        let peaks = Peaks()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<60 {
                let key = ["x", "y", "z"][index % 3]
                group.addTask {
                    guard await semaphore.acquire(key) else { return }
                    let current = peaks.now.withLock { $0[key, default: 0] += 1; return $0[key]! }
                    peaks.peak.withLock { $0[key] = max($0[key] ?? 0, current) }
                    try? await Task.sleep(nanoseconds: UInt64.random(in: 0...2_000_000))
                    peaks.now.withLock { $0[key]! -= 1 }
                    semaphore.release(key)
                }
            }
        }
        #expect(peaks.peak.withLock { $0 } == ["x": 2, "y": 2, "z": 2])
        #expect(semaphore.keyCount == 0, "idle keys are forgotten")
    }

    @Test func aCancelledKeyedWaiterLeavesWithoutAPermit() async {
        let semaphore = KeyedSemaphore<Int>(limit: 1)
        #expect(await semaphore.acquire(1))
        let waiter = Task { await semaphore.acquire(1) }
        try? await Task.sleep(nanoseconds: 20_000_000)
        waiter.cancel()
        #expect(await waiter.value == false)
        semaphore.release(1)
        #expect(semaphore.keyCount == 0)
        #expect(await semaphore.acquire(1), "the permit is free again")
    }

    @Test func asyncRateLimiterPassesTheBurstThenWaits() async {
        let limiter = AsyncRateLimiter<String>(tokensPerSecond: 1.0 / 3600, burst: 3)
        for _ in 0..<3 { #expect(await limiter.acquire("k")) }
        #expect(await limiter.acquire("other"), "each key has its own bucket")
        let waiter = Task { await limiter.acquire("k") }
        try? await Task.sleep(nanoseconds: 20_000_000)
        waiter.cancel()
        #expect(await waiter.value == false, "the fourth token is an hour away; cancelled meanwhile")
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("weir-cache-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func cacheRoundTripsAResponseByMethodURLAndBody() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = try ResponseCache(directory: directory + "/c", timeToLive: nil)
        let request = HTTPRequest(method: "POST", url: "http://h/x?a=1", body: Array(#"{"q":1}"#.utf8))
        #expect(cache.lookup(request) == nil)
        let body: [UInt8] = [0xFF, 0x0A, 0x00, 0x41]  // any bytes, newlines included
        try cache.store(HTTPResponse(status: 201, headers: [("Content-Type", "application/json"), ("X-A", "1")], body: body), for: request)
        let hit = try #require(cache.lookup(request))
        #expect(hit.status == 201 && hit.body == body && hit.header("x-a") == "1")
        #expect(cache.lookup(HTTPRequest(method: "GET", url: request.url)) == nil)
        #expect(cache.lookup(HTTPRequest(method: "POST", url: request.url, body: Array("{}".utf8))) == nil)
        let files = FileManager.default.enumerator(atPath: directory)!.compactMap { $0 as? String }
        #expect(!files.contains { $0.contains(".weir-cache-") }, "no temporary left: \(files)")
        #expect(SignalStop.registeredPathCount(withPrefix: directory) == 0)
    }

    @Test func aCacheEntryForAnotherKeyOrPastItsTimeIsAMiss() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let request = HTTPRequest(url: "http://h/1")
        let cache = try ResponseCache(directory: directory, timeToLive: 60)
        try cache.store(HTTPResponse(status: 200, headers: [], body: Array("1".utf8)), for: request)
        // A file whose header names another URL (a hash collision) is never answered.
        let path = cache.path(for: request)
        let other = HTTPRequest(url: "http://h/2")
        try cache.store(HTTPResponse(status: 200, headers: [], body: Array("2".utf8)), for: other)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: cache.path(for: other), toPath: path)
        #expect(cache.lookup(request) == nil)
        // Past its time to live.
        try cache.store(HTTPResponse(status: 200, headers: [], body: Array("1".utf8)), for: request)
        #expect(cache.lookup(request)?.body == Array("1".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: path)
        #expect(cache.lookup(request) == nil)
        #expect(try ResponseCache(directory: directory, timeToLive: nil).lookup(request) != nil)
        // A broken file is a miss.
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(cache.lookup(request) == nil)
    }

    @Test func aCacheFolderThatIsAFileIsAnError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data().write(to: URL(fileURLWithPath: directory + "/file"))
        #expect(throws: IOError.self) { try ResponseCache(directory: directory + "/file", timeToLive: nil) }
    }
}
