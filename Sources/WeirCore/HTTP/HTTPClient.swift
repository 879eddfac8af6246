import Synchronization

/// The settings of an ``HTTPClient`` and of both its transports (one type: each transport
/// reads what applies to it; URLSession ignores ``proxy`` and ``idleTimeout``).
package struct HTTPClientConfiguration: Sendable {
    /// Connections per host, idle and busy together (set it to at least the concurrency
    /// wanted: further requests wait; URLSession's `httpMaximumConnectionsPerHost`).
    package var maxConnectionsPerHost = 256
    /// The largest response body accepted.
    package var maxBodyBytes = 64 << 20
    /// Redirects followed per request (across schemes).
    package var redirectLimit = 5
    /// The proxy for `http://`, by default from the environment (https uses libcurl's own
    /// lowercase variables).
    package var proxy = HTTPProxySettings.fromProcessEnvironment()
    /// An idle keep-alive connection of the socket transport is closed after this many seconds.
    package var idleTimeout = 30.0

    package init() {}
}

/// The transport the stages use: ``SocketHTTPTransport`` for `http://`, ``URLSessionTransport``
/// for `https://` (created on first use), ``HTTPError/invalidURL(_:)`` for anything else.
/// Redirects are followed here, so an http page may redirect to https and back.
package final class HTTPClient: HTTPTransport {
    /// The configuration in force.
    package let configuration: HTTPClientConfiguration
    /// The plain-http transport (for its ``SocketHTTPTransport/statistics``).
    package let socketTransport: SocketHTTPTransport
    private let secure = Mutex<URLSessionTransport?>(nil)
    private let isShutDown = Atomic<Bool>(false)

    package init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
        socketTransport = SocketHTTPTransport(configuration: configuration)
    }

    package func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await HTTPRedirects.follow(request, limit: configuration.redirectLimit) { (hop: HTTPRequest, url: HTTPURL, deadline: Double?) async throws(HTTPError) -> HTTPResponse in
            if url.scheme == "http" { return try await self.socketTransport.sendOnce(hop, url: url, deadline: deadline) }
            return try await self.secureTransport().sendOnce(hop, url: url, deadline: deadline)
        }
    }

    package func shutdown() {
        isShutDown.store(true, ordering: .relaxed)
        socketTransport.shutdown()
        secure.withLock { $0?.shutdown() }
    }

    private func secureTransport() throws(HTTPError) -> URLSessionTransport {
        if isShutDown.load(ordering: .relaxed) { throw .connection("the HTTP transport was shut down") }
        return secure.withLock { transport in
            if let transport { return transport }
            let created = URLSessionTransport(configuration: configuration)
            transport = created
            return created
        }
    }
}
