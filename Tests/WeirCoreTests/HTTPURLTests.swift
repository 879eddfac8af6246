import Testing
@testable import WeirCore

/// ``HTTPURL``, ``HTTPProxySettings``, ``HTTPResponseParser`` and the request bytes, without a network.
@Suite struct HTTPURLTests {
    @Test func parsesSchemeHostPortAndTarget() throws {
        let url = try HTTPURL.parse("HTTP://Example.COM:8080/a/b?x=1&y=2#frag")
        #expect(url == HTTPURL(scheme: "http", host: "example.com", port: 8080, target: "/a/b?x=1&y=2"))
        #expect(url.authority == "example.com:8080")
        #expect(url.description == "http://example.com:8080/a/b?x=1&y=2")
    }

    @Test func defaultsPortsAndPath() throws {
        #expect(try HTTPURL.parse("http://h").port == 80)
        #expect(try HTTPURL.parse("https://h").port == 443)
        #expect(try HTTPURL.parse("http://h").target == "/")
        #expect(try HTTPURL.parse("http://h?q=1").target == "/?q=1")
        #expect(try HTTPURL.parse("https://h:443/x").authority == "h")
    }

    @Test func parsesIPLiterals() throws {
        let v4 = try HTTPURL.parse("http://127.0.0.1:9/p")
        #expect(v4.host == "127.0.0.1" && v4.port == 9 && !v4.isIPv6Literal)
        let v6 = try HTTPURL.parse("http://[::1]:8080/p")
        #expect(v6.host == "::1" && v6.port == 8080 && v6.isIPv6Literal)
        #expect(v6.authority == "[::1]:8080")
        #expect(try HTTPURL.parse("http://[fe80::1]").authority == "[fe80::1]")
    }

    @Test(arguments: [
        "ftp://h/x", "h/x", "http://", "http:///x", "http://h x/", "http://h/a b", "http://h/\u{1}",
        "http://h:0/", "http://h:65536/", "http://h:x/", "http://u@h/", "http://[::1/", "http://[zz]/", "http://a:b:c/",
    ])
    func rejectsBadURLs(_ text: String) {
        #expect(throws: HTTPError.self) { try HTTPURL.parse(text) }
    }

    @Test func resolvesRedirectLocations() throws {
        let base = try HTTPURL.parse("http://h:81/a/b?q=1")
        #expect(try base.resolving("/c?d=2").description == "http://h:81/c?d=2")
        #expect(try base.resolving("c").description == "http://h:81/a/c")
        #expect(try base.resolving("?z=9").description == "http://h:81/a/b?z=9")
        #expect(try base.resolving("//other/x").description == "http://other/x")
        #expect(try base.resolving("https://s/y").description == "https://s/y")
        #expect(throws: HTTPError.self) { try base.resolving("/a b") }
    }

    @Test func proxySettingsFromTheEnvironment() {
        let settings = HTTPProxySettings(environment: [
            "http_proxy": "http://proxy.local:3128/", "HTTP_PROXY": "http://ignored:1",
            "no_proxy": " .internal.example, localhost:8080 ,*.corp,[::1]",
        ])
        #expect(settings.proxy?.host == "proxy.local" && settings.proxy?.port == 3128)
        #expect(settings.noProxy == ["internal.example", "localhost", "corp", "::1"])
        #expect(settings.proxy(for: "api.example.com")?.host == "proxy.local")
        #expect(settings.proxy(for: "internal.example") == nil)
        #expect(settings.proxy(for: "db.internal.example") == nil)
        #expect(settings.proxy(for: "notinternal.example")?.host == "proxy.local")
        #expect(settings.proxy(for: "LOCALHOST") == nil)
        #expect(settings.proxy(for: "x.corp") == nil)
        #expect(settings.proxy(for: "::1") == nil)
    }

    @Test func proxySettingsUppercaseStarAndJunk() {
        let upper = HTTPProxySettings(environment: ["HTTP_PROXY": "p:8000", "NO_PROXY": "*"])
        #expect(upper.bypassAll)
        #expect(upper.proxy(for: "anything") == nil)
        let noPort = HTTPProxySettings(environment: ["http_proxy": "p"])
        #expect(noPort.proxy(for: "h")?.port == 80)
        #expect(HTTPProxySettings(environment: ["http_proxy": "https://p:1"]).proxy(for: "h") == nil)
        #expect(HTTPProxySettings(environment: ["http_proxy": "not a url"]).proxy(for: "h") == nil)
        #expect(HTTPProxySettings(environment: [:]).proxy(for: "h") == nil)
    }

    @Test func requestBytesAddHostUserAgentAndLength() throws {
        let url = try HTTPURL.parse("http://h:8080/p?q=1")
        let post = HTTPRequest(method: "POST", url: url.description, headers: [("X-A", "1")], body: Array("hi".utf8))
        let text = String(decoding: try SocketHTTPTransport.requestBytes(post, url: url, absoluteForm: false), as: UTF8.self)
        #expect(text == "POST /p?q=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: weir/\(weirVersion)\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi")
        let get = HTTPRequest(url: url.description, headers: [("host", "override"), ("User-Agent", "me")])
        let proxied = String(decoding: try SocketHTTPTransport.requestBytes(get, url: url, absoluteForm: true), as: UTF8.self)
        #expect(proxied == "GET http://h:8080/p?q=1 HTTP/1.1\r\nhost: override\r\nUser-Agent: me\r\n\r\n")
        let injected = HTTPRequest(url: url.description, headers: [("X", "a\r\nEvil: 1")])
        #expect(throws: HTTPError.self) { try SocketHTTPTransport.requestBytes(injected, url: url, absoluteForm: false) }
    }

    /// Feeds `text` to a parser one piece at a time.
    private func parse(_ text: String, isHead: Bool = false, limit: Int = 1 << 20, pieceSize: Int, close: Bool = false) throws -> (HTTPResponse, Bool) {
        var parser = HTTPResponseParser(isHead: isHead, bodyLimit: limit)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + pieceSize)
            let piece = Array(bytes[start..<end])
            try piece.withUnsafeBytes { raw in _ = try parser.consume(raw) }
            start = end
        }
        if close { _ = try parser.consumeEnd() }
        #expect(parser.isComplete)
        return (parser.response, parser.connectionReusable)
    }

    @Test(arguments: [1, 2, 5, 1000])
    func parsesFramings(pieceSize: Int) throws {
        let (fixed, reusable) = try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Case: Kept\r\n\r\nhello", pieceSize: pieceSize)
        #expect(fixed.status == 200 && fixed.body == Array("hello".utf8) && reusable)
        #expect(fixed.headers.map(\.name) == ["Content-Length", "X-Case"])
        let (chunked, _) = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: done\r\n\r\n", pieceSize: pieceSize)
        #expect(chunked.body == Array("abcde".utf8))
        #expect(chunked.header("x-t") == "done")
        let (closed, closedReusable) = try parse("HTTP/1.1 200 OK\r\n\r\nuntil the end", pieceSize: pieceSize, close: true)
        #expect(closed.body == Array("until the end".utf8) && !closedReusable)
        let (interim, _) = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", pieceSize: pieceSize)
        #expect(interim.status == 204 && interim.body.isEmpty)
        let (head, _) = try parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", isHead: true, pieceSize: pieceSize)
        #expect(head.body.isEmpty)
        let (notModified, _) = try parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", pieceSize: pieceSize)
        #expect(notModified.body.isEmpty)
    }

    @Test func parserRejectsOversizedAndMalformed() {
        #expect(throws: HTTPError.bodyTooLarge(limit: 4)) { try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", limit: 4, pieceSize: 100) }
        #expect(throws: HTTPError.bodyTooLarge(limit: 4)) { try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", limit: 4, pieceSize: 100) }
        #expect(throws: HTTPError.self) { try parse("SMTP ready\r\n\r\n", pieceSize: 100) }
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", pieceSize: 100) }
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", pieceSize: 100) }
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhel", pieceSize: 100, close: true) }
    }

    @Test func redirectRewritesMethodAndDropsCredentialsAcrossHosts() throws {
        let from = try HTTPURL.parse("http://a/x"), same = try HTTPURL.parse("http://a/y"), other = try HTTPURL.parse("http://b/y")
        let post = HTTPRequest(method: "POST", url: from.description, headers: [("Authorization", "s"), ("Content-Type", "t")], body: [1])
        let seeOther = HTTPRedirects.redirected(post, status: 303, from: from, to: same)
        #expect(seeOther.method == "GET" && seeOther.body == nil && seeOther.headers.map(\.name) == ["Authorization"])
        let temporary = HTTPRedirects.redirected(post, status: 307, from: from, to: other)
        #expect(temporary.method == "POST" && temporary.body == [1] && temporary.headers.map(\.name) == ["Content-Type"])
        #expect(temporary.url == "http://b/y")
    }
}
