import Synchronization

/// The settings shared by both transports of an ``HTTPClient``.
package struct HTTPClientConfiguration: Sendable {
    /// Connections per host (set it to at least the concurrency wanted).
    package var maxConnectionsPerHost = 256
    /// The largest response body accepted.
    package var maxBodyBytes = 64 << 20
    /// Redirects followed per request (across schemes).
    package var redirectLimit = 5
    /// The proxy for `http://` (https uses libcurl's own lowercase variables).
    package var proxy = HTTPProxySettings.fromProcessEnvironment()

    package init() {}

    /// The socket transport's share of this configuration.
    package var socketConfiguration: SocketHTTPTransport.Configuration {
        var configuration = SocketHTTPTransport.Configuration()
        configuration.maxConnectionsPerHost = maxConnectionsPerHost
        configuration.maxBodyBytes = maxBodyBytes
        configuration.redirectLimit = redirectLimit
        configuration.proxy = proxy
        return configuration
    }

    /// The URLSession transport's share of this configuration.
    package var urlSessionConfiguration: URLSessionTransport.Configuration {
        var configuration = URLSessionTransport.Configuration()
        configuration.maxConnectionsPerHost = maxConnectionsPerHost
        configuration.maxBodyBytes = maxBodyBytes
        configuration.redirectLimit = redirectLimit
        return configuration
    }
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
        socketTransport = SocketHTTPTransport(configuration: configuration.socketConfiguration)
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
            let created = URLSessionTransport(configuration: configuration.urlSessionConfiguration)
            transport = created
            return created
        }
    }
}
