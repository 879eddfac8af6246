import Foundation
import Testing
@testable import WeirCore
import WeirTestSupport

/// The transports against `weir-test-server.py` (skipped, visibly, without python3).
@Suite(.enabled(if: TestHTTPServer.isAvailable, "python3 is not installed: the HTTP client tests are skipped"), .serialized, .timeLimit(.minutes(2)))
struct HTTPClientTests {
    /// A socket transport with `change` applied to its configuration and a fresh server.
    private func setUp(_ change: (inout SocketHTTPTransport.Configuration) -> Void = { _ in }) throws -> (TestHTTPServer, SocketHTTPTransport) {
        var configuration = SocketHTTPTransport.Configuration()
        configuration.proxy = .direct
        change(&configuration)
        return (try TestHTTPServer(), SocketHTTPTransport(configuration: configuration))
    }

    private func json(_ response: HTTPResponse) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
    }

    /// The error `send` threw, or nil when it answered.
    private func failure(_ transport: some HTTPTransport, _ request: HTTPRequest) async -> HTTPError? {
        do {
            _ = try await transport.send(request)
            return nil
        } catch {
            return error
        }
    }

    @Test func getsJSONWithTheHeadersWeirAdds() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/7", headers: [("X-Trace", "a")]))
        #expect(response.status == 200)
        #expect(json(response)?["id"] as? Int == 7)
        #expect(json(response)?["name"] as? String == "user 7")
        #expect(response.headers.contains { $0.name == "Content-Type" })  // names as received
        let logged = try #require(server.requestLog().first)
        let headers = try #require(logged["headers"] as? [String: String])
        #expect(headers["Host"] == "127.0.0.1:\(server.port)")
        #expect(headers["User-Agent"] == "weir/\(weirVersion)")
        #expect(headers["X-Trace"] == "a")
    }

    @Test func postsABody() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let response = try await transport.send(HTTPRequest(method: "POST", url: "\(server.baseURL)/x?echo=1", body: Array("{\"a\":1}".utf8)))
        #expect(json(response)?["method"] as? String == "POST")
        #expect(json(response)?["body"] as? String == "{\"a\":1}")
        #expect((json(response)?["headers"] as? [String: String])?["Content-Length"] == "7")
    }

    @Test func keepsConnectionsAliveAtTheConcurrency() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let workers = 8, perWorker = 10
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in 0..<perWorker {
                        let id = worker * 100 + index
                        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/\(id)?delay=0.01"))
                        #expect(self.json(response)?["id"] as? Int == id)
                    }
                }
            }
            try await group.waitForAll()
        }
        let stats = try server.stats()
        #expect(stats.requests == workers * perWorker)
        #expect(stats.opened <= workers)
        #expect(transport.statistics.connectionsOpened == stats.opened)
        #expect(transport.statistics.connectionsOpen == stats.opened)
    }

    @Test func answers200ConcurrentRequestsWithRandomLatency() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let ids = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            for id in 0..<200 {
                group.addTask {
                    let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/items/\(id)?delay=rand:0:0.2", timeout: 30))
                    return (id, self.json(response)?["id"] as? Int)
                }
            }
            var answers: [(Int, Int?)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(ids.count == 200)
        #expect(ids.allSatisfy { $0.0 == $0.1 })
        #expect(try server.stats().opened <= 200)
    }

    @Test func queuesRequestsWhenTheHostsPoolIsFull() async throws {
        let (server, transport) = try setUp { $0.maxConnectionsPerHost = 4 }
        defer { transport.shutdown(); server.stop() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<40 {
                group.addTask {
                    let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/\(id)?delay=0.02"))
                    #expect(self.json(response)?["id"] as? Int == id)
                }
            }
            try await group.waitForAll()
        }
        let stats = try server.stats()
        #expect(stats.requests == 40)
        #expect(stats.opened <= 4)
    }

    @Test func decodesChunkedBodiesWithTrailers() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/12?chunked=1"))
        #expect(json(response)?["id"] as? Int == 12)
        #expect(response.header("x-weir-trailer") == "done")
        let large = try await transport.send(HTTPRequest(url: "\(server.baseURL)/x?bytes=300000&chunked=1"))
        #expect(large.body.count == 300_000)
        // The connection was kept for the next request.
        _ = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1"))
        #expect(try server.stats().opened == 1)
    }

    @Test func readsCloseDelimitedBodies() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/3?close=1"))
        #expect(json(response)?["id"] as? Int == 3)
        let again = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/4"))
        #expect(json(again)?["id"] as? Int == 4)
        #expect(try server.stats().opened == 2)
    }

    @Test func headNoContentAndNotModifiedHaveNoBody() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let head = try await transport.send(HTTPRequest(method: "HEAD", url: "\(server.baseURL)/users/1"))
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.header("Content-Length") == "27")
        let noContent = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1?status=204"))
        #expect(noContent.status == 204 && noContent.body.isEmpty)
        let notModified = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1?status=304"))
        #expect(notModified.status == 304 && notModified.body.isEmpty)
        let interim = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/5?continue=1"))
        #expect(interim.status == 200 && json(interim)?["id"] as? Int == 5)
        let after = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/2"))
        #expect(json(after)?["id"] as? Int == 2)
        #expect(try server.stats().opened == 1)  // none of them broke the connection's framing
    }

    @Test func capsTheBody() async throws {
        let (server, transport) = try setUp { $0.maxBodyBytes = 1000 }
        defer { transport.shutdown(); server.stop() }
        #expect(try await transport.send(HTTPRequest(url: "\(server.baseURL)/x?bytes=1000")).body.count == 1000)
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/x?bytes=1001")) == .bodyTooLarge(limit: 1000))
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/x?bytes=5000&chunked=1")) == .bodyTooLarge(limit: 1000))
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/x?bytes=5000&close=1")) == .bodyTooLarge(limit: 1000))
    }

    @Test func followsRedirectsUpToTheLimit() async throws {
        let (server, transport) = try setUp { $0.redirectLimit = 3 }
        defer { transport.shutdown(); server.stop() }
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/9?redirect=3"))
        #expect(response.status == 200 && json(response)?["id"] as? Int == 9)
        #expect(server.requestLog().count == 4)
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/9?redirect=4")) == .tooManyRedirects(limit: 3))

        let kept = try await transport.send(HTTPRequest(method: "POST", url: "\(server.baseURL)/x?echo=1&redirect=1&redirect_code=307", body: Array("b".utf8)))
        #expect(json(kept)?["method"] as? String == "POST" && json(kept)?["body"] as? String == "b")
        let changed = try await transport.send(HTTPRequest(method: "POST", url: "\(server.baseURL)/x?echo=1&redirect=1&redirect_code=303", body: Array("b".utf8)))
        #expect(json(changed)?["method"] as? String == "GET" && json(changed)?["body"] as? String == "")
    }

    @Test func subSecondTimeoutFiresAsTimedOut() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let start = SystemIO.monotonicSeconds()
        let error = await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?delay=10", timeout: 0.3))
        let elapsed = SystemIO.monotonicSeconds() - start
        #expect(error == .timedOut(seconds: 0.3))
        #expect(elapsed >= 0.29)
        #expect(elapsed < 5)  // generous: fired by the deadline, not by the 10 s answer
        // A slow body counts too: the deadline covers the whole body.
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?slow_body=10", timeout: 0.3)) == .timedOut(seconds: 0.3))
        #expect(try server.waitForStats { $0.open == 0 }.open == 0)  // timed-out connections were closed
    }

    @Test func resetMidResponseIsAConnectionError() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let error = await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?reset=1"))
        guard case .connection = error else {
            Issue.record("expected .connection, got \(String(describing: error))")
            return
        }
    }

    @Test func refusedConnectionIsAConnectError() async throws {
        var configuration = SocketHTTPTransport.Configuration()
        configuration.proxy = .direct
        let transport = SocketHTTPTransport(configuration: configuration)
        defer { transport.shutdown() }
        let port = try freePort()
        let error = await failure(transport, HTTPRequest(url: "http://127.0.0.1:\(port)/x"))
        guard case .connect(let message) = error else {
            Issue.record("expected .connect, got \(String(describing: error))")
            return
        }
        #expect(message.contains("refused"))
        guard case .resolve = await failure(transport, HTTPRequest(url: "http://no-such-host.invalid/x")) else {
            Issue.record("expected .resolve for an .invalid host")
            return
        }
    }

    @Test func cancellingHungRequestsAnswersCancelledAndClosesThem() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let count = 64
        let task = Task {
            await withTaskGroup(of: HTTPError?.self) { group in
                for id in 0..<count {
                    group.addTask { await self.failure(transport, HTTPRequest(url: "\(server.baseURL)/users/\(id)?hang=1")) }
                }
                var errors: [HTTPError?] = []
                for await error in group { errors.append(error) }
                return errors
            }
        }
        let hung = try server.waitForStats(seconds: 20) { $0.requests == count }
        #expect(hung.requests == count)
        let start = SystemIO.monotonicSeconds()
        task.cancel()
        let errors = await task.value
        let elapsed = SystemIO.monotonicSeconds() - start
        #expect(errors.count == count)
        #expect(errors.allSatisfy { $0 == .cancelled })
        #expect(elapsed < 5)  // generous; measured in milliseconds
        #expect(try server.waitForStats { $0.open == 0 }.open == 0)
        #expect(transport.statistics.connectionsOpen == 0)
    }

    @Test func alreadyCancelledTaskIsAnsweredAtOnce() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await self.failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?hang=1"))
        }
        #expect(await task.value == .cancelled)
    }

    @Test func retriesOnceWhenAKeptAliveConnectionWentStale() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        _ = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1?stale=1"))
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/2"))
        #expect(json(response)?["id"] as? Int == 2)
        #expect(transport.statistics.staleRetries == 1)
        #expect(try server.stats().opened == 2)
        let log = server.requestLog()
        #expect(log.filter { $0["dropped"] as? Bool == true }.count == 1)
    }

    @Test func aFreshConnectionClosedEarlyIsNotRetried() async throws {
        let (server, transport) = try setUp()
        defer { transport.shutdown(); server.stop() }
        guard case .connection = await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?reset=1")) else {
            Issue.record("expected .connection")
            return
        }
        #expect(transport.statistics.staleRetries == 0)
        #expect(server.requestLog().count == 1)
    }

    @Test func sendsThroughAProxyInAbsoluteForm() async throws {
        let proxy = try TestHTTPServer()  // stands in for the proxy: it logs the request target
        defer { proxy.stop() }
        let (_, transport) = try setUp {
            $0.proxy = HTTPProxySettings(environment: ["http_proxy": "http://127.0.0.1:\(proxy.port)", "no_proxy": "skip.example"])
        }
        defer { transport.shutdown() }
        let response = try await transport.send(HTTPRequest(url: "http://origin.example:8080/users/5"))
        #expect(response.status == 200)  // the test server answers by path
        let logged = try #require(proxy.requestLog().first)
        #expect(logged["path"] as? String == "http://origin.example:8080/users/5")
        #expect((logged["headers"] as? [String: String])?["Host"] == "origin.example:8080")
    }

    @Test func shutdownFailsLaterSends() async throws {
        let (server, transport) = try setUp()
        defer { server.stop() }
        _ = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1"))
        transport.shutdown()
        guard case .connection = await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1")) else {
            Issue.record("expected .connection after shutdown")
            return
        }
        #expect(try server.waitForStats { $0.open == 0 }.open == 0)
    }

    // MARK: HTTPClient and URLSession

    @Test func clientPicksTransportsByScheme() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        var configuration = HTTPClientConfiguration()
        configuration.proxy = .direct
        let client = HTTPClient(configuration: configuration)
        defer { client.shutdown() }
        let response = try await client.send(HTTPRequest(url: "\(server.baseURL)/users/8"))
        #expect(json(response)?["id"] as? Int == 8)
        #expect(client.socketTransport.statistics.requestsSent == 1)
        guard case .invalidURL = await failure(client, HTTPRequest(url: "ftp://127.0.0.1/x")) else {
            Issue.record("expected .invalidURL for ftp")
            return
        }
    }

    @Test func urlSessionTransportOverPlainHTTP() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        var configuration = URLSessionTransport.Configuration()
        configuration.maxBodyBytes = 1000
        configuration.redirectLimit = 2
        let transport = URLSessionTransport(configuration: configuration)
        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/6"))
        #expect(response.status == 200 && json(response)?["id"] as? Int == 6)
        let redirected = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/6?redirect=2"))
        #expect(json(redirected)?["id"] as? Int == 6)
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/6?redirect=3")) == .tooManyRedirects(limit: 2))
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/x?bytes=1001")) == .bodyTooLarge(limit: 1000))
        let start = SystemIO.monotonicSeconds()
        #expect(await failure(transport, HTTPRequest(url: "\(server.baseURL)/users/1?delay=10", timeout: 0.3)) == .timedOut(seconds: 0.3))
        #expect(SystemIO.monotonicSeconds() - start < 5)
        // A 401 with WWW-Authenticate must not hang (#5456) nor pass for a cancellation.
        do {
            let auth = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/1?auth=1", timeout: 10))
            #expect(auth.status == 401)
        } catch {
            guard case .connection(let message) = error, message.contains("authentication") else {
                Issue.record("expected a 401 or an authentication .connection error, got \(error)")
                return
            }
        }
    }

    @Test func urlSessionCancellationIsPrompt() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let transport = URLSessionTransport()
        let task = Task {
            await withTaskGroup(of: HTTPError?.self) { group in
                for id in 0..<16 {
                    group.addTask { await self.failure(transport, HTTPRequest(url: "\(server.baseURL)/users/\(id)?hang=1")) }
                }
                var errors: [HTTPError?] = []
                for await error in group { errors.append(error) }
                return errors
            }
        }
        #expect(try server.waitForStats(seconds: 20) { $0.requests == 16 }.requests == 16)
        task.cancel()
        let errors = await task.value
        #expect(errors.count == 16 && errors.allSatisfy { $0 == .cancelled })
    }

    @Test(.enabled(if: TestHTTPServer.isTLSAvailable, "openssl is not installed: the HTTPS test is skipped"))
    func httpsWithAnUntrustedCertificateFailsAsTLS() async throws {
        let files = try TestHTTPServer.makeSelfSignedCertificate()
        let server = try TestHTTPServer(tls: files)
        defer { server.stop() }
        #expect(server.baseURL.hasPrefix("https://"))
        let client = HTTPClient()
        // corelibs Foundation cannot be told to trust a self-signed certificate, so the
        // handshake must fail, and fail as TLS (not hang, not crash, not succeed).
        let error = await failure(client, HTTPRequest(url: "\(server.baseURL)/users/1", timeout: 20))
        guard case .tls = error else {
            Issue.record("expected .tls, got \(String(describing: error))")
            return
        }
    }

    /// A port nothing listens on (bound, then closed).
    private func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(descriptor, $0, length) == 0, getsockname(descriptor, $0, &length) == 0 else { throw HTTPError.connect("bind") }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// 2,000 requests at C=64 with 50 ms latency; run with `WEIR_HTTP_BENCH=1`.
@Suite(.enabled(if: TestHTTPServer.isAvailable && ProcessInfo.processInfo.environment["WEIR_HTTP_BENCH"] == "1", "set WEIR_HTTP_BENCH=1 to run"))
struct HTTPThroughputBenchmark {
    @Test func socketTransportAtSixtyFour() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        var configuration = SocketHTTPTransport.Configuration()
        configuration.proxy = .direct
        let transport = SocketHTTPTransport(configuration: configuration)
        defer { transport.shutdown() }
        let total = 2000, concurrency = 64
        let start = SystemIO.monotonicSeconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: total, by: concurrency) {
                        let response = try await transport.send(HTTPRequest(url: "\(server.baseURL)/users/\(index)?delay=0.05"))
                        #expect(response.status == 200)
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = SystemIO.monotonicSeconds() - start
        print("HTTP benchmark: \(total) requests, C=\(concurrency), 50 ms: \(Int(Double(total) / elapsed)) req/s (ideal \(concurrency * 20)), connections opened \(transport.statistics.connectionsOpened)")
    }
}
