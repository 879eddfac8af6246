/// HTTP for the enrichment stages: a request, its response, the ways a request fails, and the
/// transport that sends it.
///
/// Two transports implement ``HTTPTransport``: Weir's own HTTP/1.1 keep-alive client over
/// POSIX sockets for `http://` (``SocketHTTPTransport``), and URLSession for `https://`
/// (``URLSessionTransport``). ``HTTPClient`` picks one per request by scheme.
/// `../shared/HTTP-CLIENTS.md` has the measurements behind the split.

/// One HTTP request.
package struct HTTPRequest: Sendable {
    /// The method, upper case (`GET`, `POST`, `HEAD`, ...).
    package var method: String
    /// The absolute URL (`http://host:port/path?query`), already percent-encoded.
    package var url: String
    /// Header fields in order, sent as given (the transport adds `Host`, `Content-Length`,
    /// `Connection` and `User-Agent` unless given).
    package var headers: [(name: String, value: String)]
    /// The body, or nil for none.
    package var body: [UInt8]?
    /// The whole request's deadline in seconds (connect, send, and the whole body received),
    /// sub-second values honoured; nil for none.
    package var timeout: Double?

    package init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil, timeout: Double? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// One HTTP response (after any redirects were followed).
package struct HTTPResponse: Sendable {
    /// The status code (200, 404, ...).
    package var status: Int
    /// The header fields in the order received, names as received.
    package var headers: [(name: String, value: String)]
    /// The body, decoded from chunked transfer coding (empty for HEAD, 1xx, 204, 304).
    package var body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (compared case-insensitively), or nil.
    package func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// Why a request got no response.
package enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL cannot be sent (unsupported scheme, no host, bad port, spaces).
    case invalidURL(String)
    /// The host name did not resolve.
    case resolve(host: String, message: String)
    /// The connection could not be made (refused, unreachable).
    case connect(String)
    /// The connection broke (reset, closed early) before the whole response arrived.
    case connection(String)
    /// The whole request did not complete within its `timeout`.
    case timedOut(seconds: Double)
    /// The server's reply is not valid HTTP/1.x.
    case malformedResponse(String)
    /// The body is longer than the transport's body limit.
    case bodyTooLarge(limit: Int)
    /// More redirects than the transport follows.
    case tooManyRedirects(limit: Int)
    /// TLS failed (https only).
    case tls(String)
    /// The calling task was cancelled.
    case cancelled

    /// True for failures worth retrying: connection trouble and timeouts (not bad URLs,
    /// oversized bodies or cancellation).
    var isTransient: Bool {
        switch self {
        case .resolve, .connect, .connection, .timedOut, .malformedResponse, .tls: return true
        case .invalidURL, .bodyTooLarge, .tooManyRedirects, .cancelled: return false
        }
    }

    package var description: String {
        switch self {
        case .invalidURL(let message): return "invalid URL: \(message)"
        case .resolve(let host, let message): return "cannot resolve \(host): \(message)"
        case .connect(let message): return "cannot connect: \(message)"
        case .connection(let message): return "connection failed: \(message)"
        case .timedOut(let seconds): return "timed out after \(DurationText.text(seconds))"
        case .malformedResponse(let message): return "malformed response: \(message)"
        case .bodyTooLarge(let limit): return "response body over the limit of \(limit) bytes"
        case .tooManyRedirects(let limit): return "more than \(limit) redirects"
        case .tls(let message): return "TLS: \(message)"
        case .cancelled: return "cancelled"
        }
    }
}

/// Sends HTTP requests. Implementations are safe to call from many tasks at once, answer a
/// cancelled task promptly with ``HTTPError/cancelled`` (closing what it was using, never
/// blocking the canceller), and hold no thread of the cooperative pool while they wait.
package protocol HTTPTransport: Sendable {
    /// Sends `request` and returns its response, following redirects up to the transport's limit.
    func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse
    /// Closes idle connections and stops the transport's threads; later sends fail.
    func shutdown()
}
