import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Weir's own HTTP/1.1 client for `http://`: keep-alive connections over non-blocking POSIX
/// sockets, all driven by one `poll(2)` thread.
///
/// ```
///  send() ──submit/cancel──▶ mailbox ──self-pipe──▶ poll thread ──▶ sockets
///    ▲                                          │        │
///    └──── continuation resumed exactly once ◀──┘        └──▶ getaddrinfo on a DispatchQueue,
///                                                            answer posted back to the mailbox
/// ```
///
/// - Connections are pooled per `host:port` (the proxy's when one is used), at most
///   ``Configuration/maxConnectionsPerHost`` each; further requests wait in that host's queue.
/// - Bodies framed by `Content-Length`, chunked coding (trailers appended to the headers) or the
///   connection's close; none for HEAD, 1xx (skipped), 204, 304; over
///   ``Configuration/maxBodyBytes`` → ``HTTPError/bodyTooLarge(limit:)``.
/// - Redirects 301/302/303 (→ GET without a body; HEAD stays HEAD) and 307/308 (method and
///   body kept), relative `Location` resolved, up to ``Configuration/redirectLimit``. A
///   redirect to `https://` fails with ``HTTPError/invalidURL(_:)`` here; ``HTTPClient`` follows it.
/// - A kept-alive connection that turns out closed (nothing of the response received) is
///   retried once on a fresh connection.
/// - `HTTPRequest.timeout` is one deadline for the whole request (queueing, resolving,
///   connecting, sending, the whole body), enforced by the poll loop's timeout: → ``HTTPError/timedOut(seconds:)``.
/// - Cancelling the calling task only posts to the loop; the loop closes that connection and
///   the send throws ``HTTPError/cancelled``.
/// - Proxy: ``HTTPProxySettings`` (by default from `http_proxy`/`HTTP_PROXY` and
///   `no_proxy`/`NO_PROXY`, see there for exactly what is honoured): a proxied request goes to
///   the proxy with the absolute-form target (`GET http://host/path HTTP/1.1`). No CONNECT.
/// - Adds `Host`, `User-Agent: weir/<version>` and `Content-Length` (when there is a body, or
///   0 for POST/PUT/PATCH without one) unless given; sends no `Connection` header (HTTP/1.1
///   keeps alive by default); a given `Connection: close` closes the connection after the response.
package final class SocketHTTPTransport: HTTPTransport {
    /// How the transport behaves: the client's settings (proxy and idle timeout included).
    package typealias Configuration = HTTPClientConfiguration

    /// Counters for tests and `--progress`.
    package struct Statistics: Sendable, Equatable {
        /// Connections that completed their TCP connect.
        package var connectionsOpened: Int
        /// Connections connected now (busy or idle).
        package var connectionsOpen: Int
        /// Requests written to a connection (a stale retry counts twice).
        package var requestsSent: Int
        /// Requests retried after a kept-alive connection turned out closed.
        package var staleRetries: Int
    }

    /// The configuration in force.
    package let configuration: Configuration
    private let loop: SocketEventLoop

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        loop = SocketEventLoop(configuration: configuration)
        loop.start()
    }

    deinit { loop.stop() }

    /// The counters now.
    package var statistics: Statistics { loop.counters.snapshot() }

    package func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await HTTPRedirects.follow(request, limit: configuration.redirectLimit) { (hop: HTTPRequest, url: HTTPURL, deadline: Double?) async throws(HTTPError) -> HTTPResponse in
            guard url.scheme == "http" else {
                throw HTTPError.invalidURL("\(url.scheme):// is not handled by the socket transport (\(url))")
            }
            return try await self.sendOnce(hop, url: url, deadline: deadline)
        }
    }

    package func shutdown() { loop.stop() }

    /// Sends one request to `url` (no redirects), `deadline` in ``SystemIO/monotonicSeconds()``.
    func sendOnce(_ request: HTTPRequest, url: HTTPURL, deadline: Double?) async throws(HTTPError) -> HTTPResponse {
        let proxy = configuration.proxy.proxy(for: url.host)
        let bytes = try SocketHTTPTransport.requestBytes(request, url: url, absoluteForm: proxy != nil)
        let target = proxy ?? (url.host, url.port)
        let exchange = SocketExchange(
            key: "\(target.host):\(target.port)", host: target.host, port: target.port, bytes: bytes,
            isHead: request.method == "HEAD",
            closeAfter: request.headers.contains { $0.name.lowercased() == "connection" && $0.value.lowercased().contains("close") },
            deadline: deadline, timeout: request.timeout ?? 0)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
                if exchange.install(continuation) { loop.submit(exchange) }
            }
        } onCancel: {
            if exchange.markCancelled() { loop.cancel(exchange) }
        }
        return try result.get()
    }

    /// The request's bytes: request line, headers (with the ones Weir adds), blank line, body.
    package static func requestBytes(_ request: HTTPRequest, url: HTTPURL, absoluteForm: Bool) throws(HTTPError) -> [UInt8] {
        func has(_ name: String) -> Bool { request.headers.contains { $0.name.lowercased() == name } }
        guard !request.method.isEmpty, request.method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidURL("bad method '\(request.method)'")
        }
        var head = "\(request.method) \(absoluteForm ? url.description : url.target) HTTP/1.1\r\n"
        if !has("host") { head += "Host: \(url.authority)\r\n" }
        if !has("user-agent") { head += "User-Agent: weir/\(weirVersion)\r\n" }
        for header in request.headers {
            if header.name.isEmpty || header.name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x3A || $0 == 0x7F })
                || header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                throw .invalidURL("bad header field '\(header.name)'")
            }
            head += "\(header.name): \(header.value)\r\n"
        }
        let needsLength = request.body != nil || ["POST", "PUT", "PATCH"].contains(request.method)
        if needsLength && !has("content-length") && !has("transfer-encoding") {
            head += "Content-Length: \(request.body?.count ?? 0)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body = request.body { bytes.append(contentsOf: body) }
        return bytes
    }
}

/// Following redirects, shared by the transports.
package enum HTTPRedirects {
    /// The statuses followed.
    package static let statuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Sends `request` through `sendOnce`, following up to `limit` redirects; one deadline
    /// (from `request.timeout`) covers all hops.
    package static func follow(
        _ request: HTTPRequest, limit: Int,
        sendOnce: (HTTPRequest, HTTPURL, Double?) async throws(HTTPError) -> HTTPResponse
    ) async throws(HTTPError) -> HTTPResponse {
        let deadline = request.timeout.map { SystemIO.monotonicSeconds() + $0 }
        var current = request
        var url = try HTTPURL.parse(request.url)
        var hops = 0
        while true {
            let response = try await sendOnce(current, url, deadline)
            guard statuses.contains(response.status), let location = response.header("Location") else { return response }
            if hops >= limit { throw .tooManyRedirects(limit: limit) }
            hops += 1
            let next = try url.resolving(location)
            current = redirected(current, status: response.status, from: url, to: next)
            url = next
        }
    }

    /// The request to send to `next` after a `status` redirect from `url`.
    package static func redirected(_ request: HTTPRequest, status: Int, from url: HTTPURL, to next: HTTPURL) -> HTTPRequest {
        var request = request
        request.url = next.description
        if status == 301 || status == 302 || status == 303, request.method != "HEAD" {
            request.method = "GET"
            request.body = nil
            request.headers.removeAll { ["content-length", "content-type", "transfer-encoding"].contains($0.name.lowercased()) }
        }
        if next.host != url.host || next.port != url.port || next.scheme != url.scheme {
            // Credentials and the Host override are for the original server only.
            request.headers.removeAll { ["host", "authorization", "cookie", "proxy-authorization"].contains($0.name.lowercased()) }
        }
        return request
    }
}

// MARK: - The loop's shared parts

/// One request in flight: the bytes to send and the continuation to resume exactly once.
///
/// The continuation and the cancelled flag are shared between the sending task, its
/// cancellation handler and the poll thread, under one lock held only for a few instructions;
/// everything else belongs to the poll thread.
private final class SocketExchange: @unchecked Sendable {
    private struct Shared {
        var continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>?
        var finished = false
        var cancelled = false
    }

    let key: String
    let host: String
    let port: Int
    let bytes: [UInt8]
    let isHead: Bool
    let closeAfter: Bool
    let deadline: Double?
    let timeout: Double
    private let shared = Mutex(Shared())

    // Poll-thread state.
    var connection: SocketConnection?
    var retried = false
    var needsFreshConnection = false
    var isLive = false

    init(key: String, host: String, port: Int, bytes: [UInt8], isHead: Bool, closeAfter: Bool, deadline: Double?, timeout: Double) {
        self.key = key
        self.host = host
        self.port = port
        self.bytes = bytes
        self.isHead = isHead
        self.closeAfter = closeAfter
        self.deadline = deadline
        self.timeout = timeout
    }

    /// Stores the continuation; false (and resumed with `.cancelled`) when already cancelled.
    func install(_ continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) -> Bool {
        let installed = shared.withLock { state -> Bool in
            if state.cancelled { state.finished = true; return false }
            state.continuation = continuation
            return true
        }
        if !installed { continuation.resume(returning: .failure(.cancelled)) }
        return installed
    }

    /// Marks the exchange cancelled; true when the loop must be told (it holds the continuation).
    func markCancelled() -> Bool {
        shared.withLock { state in
            state.cancelled = true
            return state.continuation != nil && !state.finished
        }
    }

    var isCancelled: Bool { shared.withLock { $0.cancelled } }

    /// Resumes the continuation with `result` unless it was resumed already.
    func finish(_ result: Result<HTTPResponse, HTTPError>) {
        let continuation = shared.withLock { state -> CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>? in
            if state.finished { return nil }
            state.finished = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: result)
    }
}

/// The transport's counters, written by the poll thread, read by anyone.
private final class SocketCounters: Sendable {
    let opened = Atomic<Int>(0)
    let open = Atomic<Int>(0)
    let sent = Atomic<Int>(0)
    let retries = Atomic<Int>(0)

    func snapshot() -> SocketHTTPTransport.Statistics {
        .init(connectionsOpened: opened.load(ordering: .relaxed), connectionsOpen: open.load(ordering: .relaxed),
              requestsSent: sent.load(ordering: .relaxed), staleRetries: retries.load(ordering: .relaxed))
    }
}

/// A resolved socket address, as bytes (a `sockaddr_in` or `sockaddr_in6`).
private struct SocketAddress: Sendable {
    var family: Int32
    var bytes: [UInt8]
}

/// One TCP connection, owned by the poll thread.
private final class SocketConnection {
    enum Phase { case resolving, connecting, active, idle }

    let key: String
    let host: String
    let port: Int
    var phase = Phase.resolving
    var descriptor: Int32 = -1
    var countedOpen = false
    var addresses: [SocketAddress] = []
    var addressIndex = 0
    var lastConnectError: Int32 = 0
    var exchange: SocketExchange?
    var output: [UInt8] = []
    var written = 0
    var parser: HTTPResponseParser?
    var served = 0
    var idleSince = 0.0

    init(key: String, host: String, port: Int) {
        self.key = key
        self.host = host
        self.port = port
    }

    var wantsWrite: Bool { phase == .connecting || (phase == .active && written < output.count) }
}

/// A host's connections and the requests waiting for one.
private final class HostPool {
    var connections: [SocketConnection] = []
    var idle: [SocketConnection] = []
    var waiting: [SocketExchange] = []
}

// MARK: - The poll loop

/// The poll thread and everything it owns.
private final class SocketEventLoop: @unchecked Sendable {
    private enum Message {
        case submit(SocketExchange)
        case cancel(SocketExchange)
        case resolved(key: String, Result<[SocketAddress], HTTPError>)
        case stop
    }

    private struct Mailbox {
        var messages: [Message] = []
        var wakePending = false
        var stopped = false
    }

    let counters = SocketCounters()
    private let configuration: SocketHTTPTransport.Configuration
    private let mailbox = Mutex(Mailbox())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let resolverQueue = DispatchQueue(label: "weir.http.resolve", attributes: .concurrent)

    // Poll-thread state.
    private var pools: [String: HostPool] = [:]
    private var live: [ObjectIdentifier: SocketExchange] = [:]
    private var addressCache: [String: [SocketAddress]] = [:]
    private var resolving: Set<String> = []
    private var running = true
    private static let readBufferSize = 256 * 1024
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: readBufferSize, alignment: 16)

    init(configuration: SocketHTTPTransport.Configuration) {
        self.configuration = configuration
        var ends: [Int32] = [-1, -1]
        if !SystemIO.makePipe(&ends, nonBlocking: true) { ends = [-1, -1] }
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    /// Starts the poll thread (it keeps the loop alive until ``stop()``).
    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<SocketEventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<SocketEventLoop>.fromOpaque(context).release()
            mailbox.withLock { $0.stopped = true }
        }
    }

    func submit(_ exchange: SocketExchange) {
        if !post(.submit(exchange)) { exchange.finish(.failure(.connection("the HTTP transport was shut down"))) }
    }

    func cancel(_ exchange: SocketExchange) { _ = post(.cancel(exchange)) }

    func stop() { _ = post(.stop) }

    /// Queues `message` and wakes the loop; false when the loop has stopped.
    private func post(_ message: Message) -> Bool {
        let (accepted, wake) = mailbox.withLock { box -> (Bool, Bool) in
            if box.stopped { return (false, false) }
            if case .stop = message { box.stopped = true }
            box.messages.append(message)
            let wake = !box.wakePending
            box.wakePending = true
            return (true, wake)
        }
        if wake {
            var byte: UInt8 = 1
            _ = Glibc.write(wakeWrite, &byte, 1)
        }
        return accepted
    }

    private func run() {
        var descriptors: [pollfd] = []
        var polled: [SocketConnection?] = []
        while running {
            descriptors.removeAll(keepingCapacity: true)
            polled.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            polled.append(nil)
            for pool in pools.values {
                for connection in pool.connections where connection.descriptor >= 0 {
                    let events = connection.wantsWrite ? Int16(POLLOUT) : Int16(POLLIN)
                    descriptors.append(pollfd(fd: connection.descriptor, events: events | (connection.phase == .active ? Int16(POLLIN) : 0), revents: 0))
                    polled.append(connection)
                }
            }
            let timeout = pollTimeout()
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 && errno != EINTR { break }
            if ready > 0 {
                if descriptors[0].revents != 0 { drainWakePipe() }
                for index in 1..<descriptors.count where descriptors[index].revents != 0 {
                    guard let connection = polled[index], connection.descriptor == descriptors[index].fd else { continue }
                    handle(connection, events: descriptors[index].revents)
                }
            }
            processMessages()
            expireDeadlines()
        }
        shutDownEverything()
    }

    // MARK: Messages

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 256)
        while Glibc.read(wakeRead, &bytes, bytes.count) > 0 {}
    }

    private func processMessages() {
        let messages = mailbox.withLock { box -> [Message] in
            box.wakePending = false
            defer { box.messages.removeAll() }
            return box.messages
        }
        for message in messages {
            switch message {
            case .submit(let exchange):
                if exchange.isCancelled { exchange.finish(.failure(.cancelled)); continue }
                live[ObjectIdentifier(exchange)] = exchange
                exchange.isLive = true
                dispatch(exchange)
            case .cancel(let exchange):
                if exchange.isLive { fail(exchange, .cancelled) }
            case .resolved(let key, let result):
                resolved(key: key, result)
            case .stop:
                running = false
            }
        }
    }

    private func shutDownEverything() {
        for exchange in Array(live.values) { fail(exchange, .connection("the HTTP transport was shut down")) }
        for pool in pools.values {
            for connection in pool.connections { closeDescriptor(connection) }
        }
        pools.removeAll()
        // Anything posted after the stop message was refused by post(); drain the rest.
        for message in mailbox.withLock({ box -> [Message] in defer { box.messages.removeAll() }; return box.messages }) {
            if case .submit(let exchange) = message { exchange.finish(.failure(.connection("the HTTP transport was shut down"))) }
        }
        SystemIO.closeQuietly(wakeRead)
        SystemIO.closeQuietly(wakeWrite)
        readBuffer.deallocate()
    }

    // MARK: Assigning requests to connections

    private func pool(_ key: String) -> HostPool {
        if let pool = pools[key] { return pool }
        let pool = HostPool()
        pools[key] = pool
        return pool
    }

    private func dispatch(_ exchange: SocketExchange) {
        let pool = pool(exchange.key)
        if !exchange.needsFreshConnection, let connection = pool.idle.popLast() {
            start(exchange, on: connection)
        } else if pool.connections.count < configuration.maxConnectionsPerHost {
            open(for: exchange, in: pool)
        } else if exchange.needsFreshConnection, let connection = pool.idle.popLast() {
            close(connection)  // makes room for the fresh one
            open(for: exchange, in: pool)
        } else {
            pool.waiting.append(exchange)
        }
    }

    /// Gives the next waiting request of `pool` a new connection while there is room.
    private func pump(_ pool: HostPool) {
        while !pool.waiting.isEmpty && pool.connections.count < configuration.maxConnectionsPerHost {
            open(for: pool.waiting.removeFirst(), in: pool)
        }
    }

    private func open(for exchange: SocketExchange, in pool: HostPool) {
        let connection = SocketConnection(key: exchange.key, host: exchange.host, port: exchange.port)
        connection.exchange = exchange
        exchange.connection = connection
        pool.connections.append(connection)
        if let addresses = addressCache[exchange.key] ?? SocketEventLoop.literalAddress(exchange.host, port: exchange.port) {
            addressCache[exchange.key] = addresses
            connect(connection, addresses: addresses)
            return
        }
        connection.phase = .resolving
        guard !resolving.contains(exchange.key) else { return }
        resolving.insert(exchange.key)
        let key = exchange.key, host = exchange.host, port = exchange.port
        resolverQueue.async { [self] in
            _ = post(.resolved(key: key, SocketEventLoop.resolve(host, port: port)))
        }
    }

    private func resolved(key: String, _ result: Result<[SocketAddress], HTTPError>) {
        resolving.remove(key)
        if case .success(let addresses) = result { addressCache[key] = addresses }
        guard let pool = pools[key] else { return }
        for connection in pool.connections where connection.phase == .resolving {
            switch result {
            case .success(let addresses): connect(connection, addresses: addresses)
            case .failure(let error): fail(connection, error)
            }
        }
    }

    /// Sends `exchange` on `connection` (connected, or just connected).
    private func start(_ exchange: SocketExchange, on connection: SocketConnection) {
        connection.exchange = exchange
        exchange.connection = connection
        connection.phase = .active
        connection.output = exchange.bytes
        connection.written = 0
        connection.parser = HTTPResponseParser(isHead: exchange.isHead, bodyLimit: configuration.maxBodyBytes)
        counters.sent.add(1, ordering: .relaxed)
        flush(connection)
    }

    // MARK: Connecting

    private func connect(_ connection: SocketConnection, addresses: [SocketAddress]) {
        connection.addresses = addresses
        connection.addressIndex = 0
        connectNext(connection)
    }

    /// Tries the connection's next address; fails the request when none is left.
    private func connectNext(_ connection: SocketConnection) {
        while connection.addressIndex < connection.addresses.count {
            let address = connection.addresses[connection.addressIndex]
            connection.addressIndex += 1
            let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if descriptor < 0 { connection.lastConnectError = errno; continue }
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let status = address.bytes.withUnsafeBytes { raw in
                Glibc.connect(descriptor, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            if status == 0 || errno == EINPROGRESS {
                connection.descriptor = descriptor
                connection.phase = .connecting
                if status == 0 { connected(connection) }
                return
            }
            connection.lastConnectError = errno
            Glibc.close(descriptor)
        }
        fail(connection, .connect("\(connection.host):\(connection.port): \(SystemIO.errorMessage(connection.lastConnectError))"))
    }

    private func connected(_ connection: SocketConnection) {
        connection.countedOpen = true
        counters.opened.add(1, ordering: .relaxed)
        counters.open.add(1, ordering: .relaxed)
        if let exchange = connection.exchange {
            start(exchange, on: connection)
        } else {
            release(connection)
        }
    }

    // MARK: Events

    private func handle(_ connection: SocketConnection, events: Int16) {
        switch connection.phase {
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(connection.descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 && events & Int16(POLLOUT) != 0 {
                connected(connection)
            } else {
                connection.lastConnectError = error != 0 ? error : ECONNREFUSED
                Glibc.close(connection.descriptor)
                connection.descriptor = -1
                connectNext(connection)
            }
        case .active:
            if events & Int16(POLLOUT) != 0 { flush(connection) }
            if connection.phase == .active, events & Int16(POLLIN | POLLHUP | POLLERR) != 0 { receive(connection) }
        case .idle:
            // An idle connection that becomes readable was closed by the server (or sent junk).
            close(connection)
        case .resolving:
            break
        }
    }

    /// Writes what is left of the request.
    private func flush(_ connection: SocketConnection) {
        while connection.written < connection.output.count {
            let count = connection.output.withUnsafeBytes { raw in
                Glibc.send(connection.descriptor, raw.baseAddress! + connection.written, raw.count - connection.written, Int32(MSG_NOSIGNAL))
            }
            if count > 0 { connection.written += count; continue }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            broken(connection, .connection("send: \(SystemIO.errorMessage(errno))"))
            return
        }
        connection.output = []
        connection.written = 0
    }

    /// Reads what has arrived and feeds the response parser.
    private func receive(_ connection: SocketConnection) {
        while connection.phase == .active, connection.parser != nil {
            let count = recv(connection.descriptor, readBuffer, SocketEventLoop.readBufferSize, 0)
            if count > 0 {
                do throws(HTTPError) {
                    if try connection.parser!.consume(UnsafeRawBufferPointer(start: readBuffer, count: count)) {
                        completed(connection)
                        return
                    }
                } catch {
                    fail(connection, error)
                    return
                }
                if count < SocketEventLoop.readBufferSize { return }
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if count == 0 {
                do throws(HTTPError) {
                    if try connection.parser!.consumeEnd() { completed(connection) }
                } catch {
                    broken(connection, error)
                }
            } else {
                broken(connection, .connection("recv: \(SystemIO.errorMessage(errno))"))
            }
            return
        }
    }

    /// The response is complete: resume the caller, then keep or close the connection.
    private func completed(_ connection: SocketConnection) {
        guard let exchange = connection.exchange, let parser = connection.parser else { return }
        connection.served += 1
        let reusable = parser.connectionReusable && !exchange.closeAfter && connection.output.isEmpty
        retire(exchange)
        exchange.finish(.success(parser.response))
        connection.parser = nil
        if reusable { release(connection) } else { close(connection) }
    }

    /// The connection broke mid-request: retry once on a fresh connection when it was a
    /// kept-alive one and nothing of the response came, else fail the request.
    private func broken(_ connection: SocketConnection, _ error: HTTPError) {
        if let exchange = connection.exchange, connection.served > 0, !exchange.retried,
           connection.parser?.receivedAnything == false {
            exchange.retried = true
            exchange.needsFreshConnection = true
            exchange.connection = nil
            connection.exchange = nil
            counters.retries.add(1, ordering: .relaxed)
            close(connection)
            dispatch(exchange)
            return
        }
        fail(connection, error)
    }

    /// A connection whose request is done and that can carry another.
    private func release(_ connection: SocketConnection) {
        connection.exchange = nil
        connection.parser = nil
        let pool = pool(connection.key)
        if !pool.waiting.isEmpty {
            let next = pool.waiting.removeFirst()
            if next.needsFreshConnection {
                close(connection)
                open(for: next, in: pool)
            } else {
                start(next, on: connection)
            }
            return
        }
        connection.phase = .idle
        connection.idleSince = SystemIO.monotonicSeconds()
        pool.idle.append(connection)
    }

    // MARK: Failures, deadlines, closing

    /// Fails the request on `connection` with `error` and closes the connection.
    private func fail(_ connection: SocketConnection, _ error: HTTPError) {
        let exchange = connection.exchange
        connection.exchange = nil
        close(connection)
        if let exchange {
            exchange.connection = nil
            retire(exchange)
            exchange.finish(.failure(error))
        }
    }

    /// Fails `exchange` with `error` wherever it is (waiting, resolving, connecting, sending, receiving).
    private func fail(_ exchange: SocketExchange, _ error: HTTPError) {
        if let connection = exchange.connection {
            fail(connection, error)
            return
        }
        if let pool = pools[exchange.key] { pool.waiting.removeAll { $0 === exchange } }
        retire(exchange)
        exchange.finish(.failure(error))
    }

    private func retire(_ exchange: SocketExchange) {
        exchange.isLive = false
        exchange.connection = nil
        live[ObjectIdentifier(exchange)] = nil
    }

    /// Closes `connection`, takes it out of its pool, and lets a waiting request have its place.
    private func close(_ connection: SocketConnection) {
        closeDescriptor(connection)
        connection.phase = .idle
        guard let pool = pools[connection.key] else { return }
        pool.connections.removeAll { $0 === connection }
        pool.idle.removeAll { $0 === connection }
        pump(pool)
    }

    private func closeDescriptor(_ connection: SocketConnection) {
        if connection.descriptor >= 0 {
            Glibc.close(connection.descriptor)
            connection.descriptor = -1
        }
        if connection.countedOpen {
            connection.countedOpen = false
            counters.open.subtract(1, ordering: .relaxed)
        }
    }

    /// Milliseconds until the nearest deadline or idle expiry (rounded up), or -1 for none.
    private func pollTimeout() -> Int32 {
        var nearest = Double.infinity
        for exchange in live.values { if let deadline = exchange.deadline, deadline < nearest { nearest = deadline } }
        for pool in pools.values {
            for connection in pool.idle { nearest = min(nearest, connection.idleSince + configuration.idleTimeout) }
        }
        guard nearest.isFinite else { return -1 }
        let milliseconds = ((nearest - SystemIO.monotonicSeconds()) * 1000).rounded(.up)
        return Int32(max(0, min(milliseconds, 60_000)))
    }

    private func expireDeadlines() {
        let now = SystemIO.monotonicSeconds()
        for exchange in Array(live.values) {
            if let deadline = exchange.deadline, deadline <= now, exchange.isLive {
                fail(exchange, .timedOut(seconds: exchange.timeout))
            }
        }
        for pool in pools.values {
            for connection in pool.idle where connection.idleSince + configuration.idleTimeout <= now {
                close(connection)
            }
        }
        pools = pools.filter { !$0.value.connections.isEmpty || !$0.value.waiting.isEmpty }
    }

    // MARK: Name resolution

    /// The address of an IPv4 or IPv6 literal, without asking the resolver.
    static func literalAddress(_ host: String, port: Int) -> [SocketAddress]? {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            return [SocketAddress(family: AF_INET, bytes: withUnsafeBytes(of: v4) { Array($0) })]
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            return [SocketAddress(family: AF_INET6, bytes: withUnsafeBytes(of: v6) { Array($0) })]
        }
        return nil
    }

    /// `getaddrinfo` (blocking: called on the resolver queue, never on the poll thread).
    static func resolve(_ host: String, port: Int) -> Result<[SocketAddress], HTTPError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let message = status == EAI_SYSTEM ? SystemIO.errorMessage(errno) : String(cString: gai_strerror(status))
            return .failure(.resolve(host: host, message: message))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            let info = current.pointee
            if let address = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                addresses.append(SocketAddress(family: info.ai_family, bytes: Array(UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))))
            }
            entry = info.ai_next
        }
        if addresses.isEmpty { return .failure(.resolve(host: host, message: "no IPv4 or IPv6 address")) }
        return .success(addresses)
    }
}
