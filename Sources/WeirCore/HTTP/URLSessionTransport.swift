import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// `https://` (and, if asked, `http://`) through Foundation's URLSession, with the
/// workarounds that swift-corelibs-foundation 6.3.1 needs.
///
/// - One long-lived session, never invalidated (session teardown crashes: #5016, #5321, ...),
///   with `httpMaximumConnectionsPerHost` = ``Configuration/maxConnectionsPerHost`` (the
///   default of 6 caps concurrency), no cache, no cookies.
/// - `dataTask` with a checked continuation; cancelling the calling task resumes it with
///   ``HTTPError/cancelled`` at once and hops `task.cancel()` onto another queue, so the
///   canceller never waits on URLSession's locks (the #5412 deadlock).
/// - A session delegate answers every authentication challenge with
///   `.cancelAuthenticationChallenge` (a 401 with `WWW-Authenticate` otherwise hangs, #5456).
///   There is no way to trust a self-signed certificate on Linux: corelibs Foundation never
///   offers a server-trust challenge and reads no CA setting but the system bundle.
/// - `timeoutInterval` is the request's timeout rounded up to whole seconds (corelibs
///   truncates sub-second values to 0); Weir enforces the real deadline itself with a timer
///   that cancels the task and throws ``HTTPError/timedOut(seconds:)``.
/// - Redirects are not left to URLSession: the delegate refuses them and ``HTTPRedirects``
///   follows them up to ``Configuration/redirectLimit``.
/// - The body limit is checked when the body is complete (URLSession buffers it).
/// - Response header names come as URLSession reports them, in its order (not the wire's).
/// - Proxies: libcurl applies the lowercase `http_proxy`, `https_proxy`, `all_proxy` and
///   `no_proxy` by itself (uppercase `HTTP_PROXY` is ignored); `connectionProxyDictionary`
///   is not supported by corelibs (#5199).
package final class URLSessionTransport: HTTPTransport {
    /// How the transport behaves: the client's settings (its proxy and idle timeout are not used).
    package typealias Configuration = HTTPClientConfiguration

    /// The configuration in force.
    package let configuration: Configuration
    private let session: URLSession
    private let cancelQueue = DispatchQueue(label: "weir.urlsession.cancel")
    private let timerQueue = DispatchQueue(label: "weir.urlsession.deadline")
    private let isShutDown = Atomic<Bool>(false)

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.httpMaximumConnectionsPerHost = max(1, configuration.maxConnectionsPerHost)
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.urlCache = nil
        sessionConfiguration.httpShouldSetCookies = false
        sessionConfiguration.httpCookieStorage = nil
        sessionConfiguration.timeoutIntervalForRequest = URLSessionTransport.noTimeout
        session = URLSession(configuration: sessionConfiguration, delegate: URLSessionTransportDelegate(), delegateQueue: nil)
    }

    /// The `timeoutInterval` used when a request has no timeout (a week).
    private static let noTimeout: TimeInterval = 7 * 24 * 3600

    package func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await HTTPRedirects.follow(request, limit: configuration.redirectLimit) { (hop: HTTPRequest, url: HTTPURL, deadline: Double?) async throws(HTTPError) -> HTTPResponse in
            try await self.sendOnce(hop, url: url, deadline: deadline)
        }
    }

    /// Later sends fail; the session itself stays (invalidating it can crash).
    package func shutdown() { isShutDown.store(true, ordering: .relaxed) }

    /// Sends one request to `url` (no redirects), `deadline` in ``SystemIO/monotonicSeconds()``.
    func sendOnce(_ request: HTTPRequest, url: HTTPURL, deadline: Double?) async throws(HTTPError) -> HTTPResponse {
        if isShutDown.load(ordering: .relaxed) { throw .connection("the HTTP transport was shut down") }
        guard let foundationURL = URL(string: url.description) else { throw .invalidURL("'\(url)' is not accepted by URLSession") }
        var urlRequest = URLRequest(url: foundationURL)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body.map { Data($0) }
        if !request.headers.contains(where: { $0.name.lowercased() == "user-agent" }) {
            urlRequest.setValue("weir/\(weirVersion)", forHTTPHeaderField: "User-Agent")
        }
        for header in request.headers { urlRequest.addValue(header.value, forHTTPHeaderField: header.name) }
        let remaining = deadline.map { $0 - SystemIO.monotonicSeconds() }
        if let remaining, remaining <= 0 { throw .timedOut(seconds: request.timeout ?? 0) }
        urlRequest.timeoutInterval = remaining.map { max(1, $0.rounded(.up)) } ?? URLSessionTransport.noTimeout

        let limit = configuration.maxBodyBytes
        let timeout = request.timeout ?? 0
        let pending = URLSessionPendingTask()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
                guard pending.install(continuation) else { return }
                let task = session.dataTask(with: urlRequest) { data, response, error in
                    pending.finish(URLSessionTransport.result(data: data, response: response, error: error, limit: limit, timeout: timeout))
                }
                // Cancelled between install and here: never start the task.
                guard pending.setTask(task) else { return }
                task.resume()
                if let remaining {
                    timerQueue.asyncAfter(deadline: .now() + remaining) { [cancelQueue] in
                        if pending.finish(.failure(.timedOut(seconds: timeout))) { cancelQueue.async { task.cancel() } }
                    }
                }
            }
        } onCancel: { [cancelQueue] in
            // Resume now; cancel the URLSession task elsewhere, never on the canceller's thread.
            if pending.finish(.failure(.cancelled)), let task = pending.task { cancelQueue.async { task.cancel() } }
        }
        return try result.get()
    }

    /// Maps a data task's outcome to a response or an ``HTTPError``.
    static func result(data: Data?, response: URLResponse?, error: Error?, limit: Int, timeout: Double) -> Result<HTTPResponse, HTTPError> {
        if let error {
            let code = (error as NSError).code
            if code == NSURLErrorCancelled || code == NSURLErrorUserCancelledAuthentication {
                // Not our cancel (that resumed the caller already): the delegate refused an
                // authentication challenge. Give back the 401/407 when URLSession kept it.
                if let http = response as? HTTPURLResponse, http.statusCode == 401 || http.statusCode == 407 {
                    return .success(HTTPResponse(status: http.statusCode, headers: headers(of: http), body: [UInt8](data ?? Data())))
                }
                return .failure(.connection("the server asked for authentication, and Weir answers no challenges"))
            }
            return .failure(map(error, timeout: timeout))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(.malformedResponse("no HTTP response"))
        }
        let body = data ?? Data()
        if body.count > limit { return .failure(.bodyTooLarge(limit: limit)) }
        return .success(HTTPResponse(status: http.statusCode, headers: headers(of: http), body: [UInt8](body)))
    }

    private static func headers(of response: HTTPURLResponse) -> [(name: String, value: String)] {
        response.allHeaderFields.map { (String(describing: $0.key), String(describing: $0.value)) }
    }

    /// The ``HTTPError`` for a URLSession error.
    static func map(_ error: Error, timeout: Double) -> HTTPError {
        let nsError = error as NSError
        let message = nsError.localizedDescription
        guard nsError.domain == NSURLErrorDomain else { return .connection(message) }
        switch nsError.code {
        case NSURLErrorTimedOut: return .timedOut(seconds: timeout)
        case NSURLErrorCancelled: return .cancelled
        case NSURLErrorBadURL, NSURLErrorUnsupportedURL: return .invalidURL(message)
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed: return .resolve(host: nsError.userInfo[NSURLErrorFailingURLErrorKey].map { "\($0)" } ?? "host", message: message)
        case NSURLErrorCannotConnectToHost, NSURLErrorNotConnectedToInternet: return .connect(message)
        case NSURLErrorSecureConnectionFailed, NSURLErrorServerCertificateUntrusted, NSURLErrorServerCertificateHasBadDate,
             NSURLErrorServerCertificateHasUnknownRoot, NSURLErrorServerCertificateNotYetValid,
             NSURLErrorClientCertificateRejected, NSURLErrorClientCertificateRequired:
            return .tls(message)
        case NSURLErrorBadServerResponse, NSURLErrorCannotParseResponse: return .malformedResponse(message)
        case NSURLErrorDataLengthExceedsMaximum: return .bodyTooLarge(limit: 0)
        case NSURLErrorHTTPTooManyRedirects: return .tooManyRedirects(limit: 0)
        default:
            // libcurl's certificate and handshake failures often arrive as NSURLErrorUnknown.
            let lower = message.lowercased()
            if lower.contains("ssl") || lower.contains("certificate") || lower.contains("tls") { return .tls(message) }
            return .connection(message)
        }
    }
}

/// One URLSession task in flight: resumes its continuation exactly once (completion,
/// deadline or cancellation, whichever comes first). Its fields are guarded by `lock`,
/// held only for a few instructions and never while resuming or cancelling.
private final class URLSessionPendingTask: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>?
    private var finished = false
    private var storedTask: URLSessionDataTask?

    /// Stores the continuation; false (and resumed with `.cancelled`) when cancelled already.
    func install(_ continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) -> Bool {
        lock.lock()
        let installed = !finished
        if installed { self.continuation = continuation }
        lock.unlock()
        if !installed { continuation.resume(returning: .failure(.cancelled)) }
        return installed
    }

    /// Stores the task; false when the request was already finished (cancelled).
    func setTask(_ task: URLSessionDataTask) -> Bool {
        lock.lock()
        storedTask = task
        let open = !finished
        lock.unlock()
        return open
    }

    var task: URLSessionDataTask? {
        lock.lock()
        defer { lock.unlock() }
        return storedTask
    }

    /// Resumes with `result` if nothing did yet; true when this call did.
    @discardableResult
    func finish(_ result: Result<HTTPResponse, HTTPError>) -> Bool {
        lock.lock()
        let first = !finished
        finished = true
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        continuation?.resume(returning: result)
        return first
    }
}

/// Refuses authentication challenges (the #5456 hang) and redirects (``HTTPRedirects`` follows them).
private final class URLSessionTransportDelegate: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
