import Foundation
import Testing
import WeirTestSupport

/// weir-fetch against a real local HTTP server (Tests/Support/weir-test-server.py): order under
/// concurrency, retries, rejects, rate limits measured from the server's own log, cancellation,
/// the cache. Skipped, visibly, when python3 is missing.
@Suite(.enabled(if: TestHTTPServer.isAvailable, "python3 is needed for the local HTTP server"), .serialized)
struct FetchStageTests {
    let server: TestHTTPServer

    init() throws {
        server = try TestHTTPServer()
    }

    /// One request as the server logged it.
    struct LoggedRequest {
        var time: Double
        var method: String
        var path: String
        var connection: Int
        var headers: [String: String]
        var body: String
    }

    /// The server's log of requests (header names lower-cased), leaving out `/_stats`.
    func requestLog() throws -> [LoggedRequest] {
        server.requestLog().compactMap { entry in
            guard let path = entry["path"] as? String, !path.hasPrefix("/_stats") else { return nil }
            let headers = (entry["headers"] as? [String: String] ?? [:]).reduce(into: [String: String]()) { $0[$1.key.lowercased()] = $1.value }
            return LoggedRequest(time: entry["t"] as? Double ?? 0, method: entry["method"] as? String ?? "", path: path,
                                 connection: entry["conn"] as? Int ?? -1, headers: headers, body: entry["body"] as? String ?? "")
        }
    }

    /// `{"id":N}` lines for 1...count.
    static func ids(_ count: Int) -> String {
        (1...count).map { "{\"id\":\($0)}\n" }.joined()
    }

    /// The JSON objects of an NDJSON text.
    static func objects(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    @Test("records keep input order with 32 requests in flight and random latencies")
    func orderIsKept() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?delay=rand:0:0.05' -c 32 --as user --stats", input: Self.ids(300))
        #expect(result.status == 0, "\(result.stderr)")
        let records = Self.objects(result.text)
        #expect(records.map { $0["id"] as? Int } == (1...300).map { $0 })
        #expect(records.allSatisfy { ($0["user"] as? [String: Any])?["name"] as? String == "user \($0["id"] as! Int)" })
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 300 && stats["written"] == 300 && stats["requests"] == 300, "\(stats)")
        // The requests really overlapped: many were in flight at once at the server.
        let log = try requestLog().filter { $0.path.hasPrefix("/users/") }
        #expect(log.count == 300)
        #expect(Set(log.map(\.connection)).count >= 16, "connections used: \(Set(log.map(\.connection)).count)")
    }

    @Test("--unordered writes every record once, as responses arrive")
    func unorderedWritesAll() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?delay=rand:0:0.03' -c 16 --unordered", input: Self.ids(100))
        #expect(result.status == 0, "\(result.stderr)")
        let ids = Self.objects(result.text).compactMap { $0["id"] as? Int }
        #expect(ids.sorted() == Array(1...100))
    }

    @Test("failed requests are retried until they succeed")
    func retriesSucceed() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?fail=2' -c 8 --retries 3 --stats", input: Self.ids(20))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.objects(result.text).count == 20)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["retries"] == 40 && stats["requests"] == 60, "\(stats)")
        let log = try requestLog()
        #expect(log.count == 60)
    }

    @Test("permanent failures land in the reject file with the status, and the counts reconcile")
    func permanentFailuresAreRejected() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = (1...30).map { "{\"id\":\($0),\"code\":\($0 % 3 == 0 ? 500 : 200)}\n" }.joined()
        let reject = directory.appendingPathComponent("rejects.ndjson").path
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?status=\\(.code)' -c 8 --retries 1 --reject \(reject) --stats", input: input)
        #expect(result.status == 0, "rejected records are accounted for: status 0 (\(result.stderr))")
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 30 && stats["written"] == 20 && stats["rejected"] == 10, "\(stats)")
        let entries = Self.objects(try String(contentsOfFile: reject, encoding: .utf8))
        #expect(entries.count == 10)
        #expect(entries.allSatisfy { $0["status"] as? Int == 500 && $0["attempts"] as? Int == 2 && ($0["input"] as? String)?.contains("\"code\":500") == true })
        #expect(entries.allSatisfy { ($0["url"] as? String)?.hasPrefix(server.baseURL) == true && ($0["error"] as? String)?.contains("HTTP status 500") == true })
        // 10 records tried twice, 20 once.
        #expect(try requestLog().count == 40)
    }

    @Test("--on-fail keep writes the failed record with an error object")
    func onFailKeep() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?status=404' --on-fail keep --error-as problem --retries 0", input: "{\"id\":3}\n")
        #expect(result.status == 0, "\(result.stderr)")
        let record = try #require(Self.objects(result.text).first)
        let problem = try #require(record["problem"] as? [String: Any])
        #expect(problem["status"] as? Int == 404 && problem["attempts"] as? Int == 1 && record["response"] == nil)
    }

    @Test("429 with Retry-After holds the retry back by what the server asked")
    func retryAfterIsHonoured() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?fail429=1&retry_after=1' --retries 2", input: "{\"id\":1}\n")
        #expect(result.status == 0, "\(result.stderr)")
        let times = try requestLog().map(\.time)
        #expect(times.count == 2)
        if times.count == 2 { #expect(times[1] - times[0] >= 0.95, "retried after \(times[1] - times[0]) s") }
    }

    @Test("--rate 5/s --rate-by .shop spaces each shop's requests (from the server's log)")
    func perKeyRateLimits() throws {
        let input = (1...24).map { "{\"id\":\($0),\"shop\":\"s\($0 % 3)\"}\n" }.joined()
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?shop=\\(.shop)' -c 24 --rate 5/s --rate-by .shop", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let log = try requestLog()
        #expect(log.count == 24)
        for shop in ["s0", "s1", "s2"] {
            let times = log.filter { $0.path.hasSuffix("shop=\(shop)") }.map(\.time).sorted()
            #expect(times.count == 8)
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            // A token every 0.2 s: no gap much shorter (a little slack for the server's clock).
            #expect(gaps.allSatisfy { $0 >= 0.17 }, "shop \(shop) gaps: \(gaps)")
        }
        // Three shops with a bucket each: about 3 × 5/s together, more than one bucket allows.
        let all = log.map(\.time).sorted()
        let span = all.last! - all.first!
        #expect(span < 7 * 0.2 * 1.8, "24 requests over 3 keys took \(span) s")
    }

    @Test("--concurrency-by host --max-per-key 2 keeps two requests in flight")
    func perKeyConcurrency() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?delay=0.1' -c 16 --concurrency-by host --max-per-key 2 --stats", input: Self.ids(12))
        #expect(result.status == 0, "\(result.stderr)")
        let log = try requestLog()
        // Two at a time, 0.1 s each: request k starts no earlier than about (k / 2) × 0.1 s.
        let starts = log.map(\.time).sorted()
        #expect(starts.count == 12)
        if let first = starts.first {
            #expect(starts.last! - first >= 0.45, "12 requests two at a time span at least 5 × 0.1 s: \(starts.last! - first)")
        }
    }

    @Test("--timeout is a real sub-second deadline")
    func timeoutsFire() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.id)?hang=1' --timeout 300ms --retries 0 --errors skip --stats", input: Self.ids(3))
        #expect(result.status == 0, "--errors skip: \(result.stderr)")
        #expect(result.stderr.contains("timed out after 300 ms"), "\(result.stderr)")
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["rejected"] == 3 && stats["written"] == 0, "\(stats)")
    }

    @Test("a body that is not JSON is a bad record with an excerpt; --raw keeps it as text")
    func nonJSONBodies() throws {
        let bad = try StageHarness.shell("weir-fetch '\(server.baseURL)/users/\\(.id)?malformed=1'", input: "{\"id\":1}\n")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("is not JSON") && bad.stderr.contains("<stdin>:1"), "\(bad.stderr)")
        let raw = try StageHarness.shell("weir-fetch '\(server.baseURL)/users/\\(.id)?malformed=1' --raw --as text --status-as status", input: "{\"id\":1}\n")
        #expect(raw.status == 0, "\(raw.stderr)")
        let record = try #require(Self.objects(raw.text).first)
        #expect(record["text"] is String && record["status"] as? Int == 200)
    }

    @Test("-X, --body, -H and --header-from-env shape the request; values in the URL are percent-encoded")
    func requestShape() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/users/\\(.name)?echo=1' -X PUT --body '{q: .id}' -H 'X-Shop: \\(.shop)' --header-from-env 'Authorization=WEIR_TOKEN'",
            input: "{\"id\":7,\"name\":\"a b/c\",\"shop\":\"north\"}\n", environment: ["WEIR_TOKEN": "Bearer s3cret"])
        #expect(result.status == 0, "\(result.stderr)")
        let entry = try #require(try requestLog().first)
        #expect(entry.method == "PUT")
        #expect(entry.path.hasPrefix("/users/a%20b%2Fc?"), "\(entry.path)")
        #expect(entry.body == "{\"q\":7}")
        #expect(entry.headers["x-shop"] == "north" && entry.headers["authorization"] == "Bearer s3cret", "\(entry.headers)")
        #expect(entry.headers["content-type"] == "application/json")
        // The token is not on the command line.
        #expect(!result.stderr.contains("s3cret"))
    }

    @Test("--merge merges an object response; --headers-as keeps the headers")
    func mergeAndHeaders() throws {
        let result = try StageHarness.shell(
            "weir-fetch '\(server.baseURL)/items/\\(.sku)' --merge --headers-as h", input: "{\"sku\":5,\"name\":\"old\",\"keep\":true}\n")
        #expect(result.status == 0, "\(result.stderr)")
        let record = try #require(Self.objects(result.text).first)
        #expect(record["name"] as? String == "user 5" && record["keep"] as? Bool == true && record["id"] as? Int == 5)
        #expect((record["h"] as? [String: Any])?["content-type"] as? String != nil)
        #expect(result.text.hasPrefix("{\"sku\":5,\"name\":\"user 5\",\"keep\":true,\"id\":5"), "the record's keys keep their places: \(result.text)")
    }

    @Test("a closed consumer ends the stage at once and leaves no connection open")
    func closedConsumerStops() throws {
        let start = Date()
        let result = try StageHarness.shell(
            "timeout 30 weir-seq --forever --template '{id: .n}' | timeout 30 weir-fetch '\(server.baseURL)/users/\\(.id)?delay=0.2' -c 32 | head -5")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 5)
        #expect(Date().timeIntervalSince(start) < 10)
        var open = -1
        for _ in 0..<50 {
            open = try server.stats().open
            if open == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(open == 0, "connections still open at the server: \(open)")
    }

    @Test("SIGTERM cancels requests in flight and ends the stage promptly")
    func sigtermStops() throws {
        let start = Date()
        let result = try StageHarness.shell(
            "weir-seq 1000 --template '{id: .n}' | { weir-fetch '\(server.baseURL)/users/\\(.id)?hang=1' -c 16 & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; echo \"status $?\" >&2; }")
        #expect(result.stderr.contains("status 143"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("--cache answers a rerun without a request")
    func cacheHits() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let command = "weir-fetch '\(server.baseURL)/users/\\(.id)' --cache \(directory.path)/cache --stats"
        let first = try StageHarness.shell(command, input: Self.ids(10))
        #expect(first.status == 0, "\(first.stderr)")
        let second = try StageHarness.shell(command, input: Self.ids(12))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.text.hasPrefix(first.text))
        #expect(StageHarness.stats(second.stderr)["cache_hits"] == 10)
        #expect(try requestLog().count == 12, "10 the first time, 2 new ones the second")
    }

    @Test("usage errors name the problem")
    func usageErrors() throws {
        for (arguments, message) in [
            ("'http://x/\\(.id' ", "URL-TEMPLATE"),
            ("'http://x/' --merge --as a", "--merge and --as"),
            ("'http://x/' --rate-by .a", "go with --rate"),
            ("'http://x/' --max-per-key 2", "go together"),
            ("'http://x/' --timeout 5x", "--timeout"),
            ("'http://x/' --retry-on sometimes", "--retry-on"),
            ("'http://x/' --header-from-env A=WEIR_NOT_SET_ANYWHERE", "is not set"),
            ("'http://x/' -H 'no colon'", "-H takes"),
        ] {
            let result = try StageHarness.shell("weir-fetch \(arguments)", input: "")
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
