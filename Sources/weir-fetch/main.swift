import WeirCore
import WeirExpression

let concurrencyRange = 1...4096
let retriesRange = 0...100
let burstRange = 1...1_000_000_000
let maxPerKeyRange = 1...4096
let timeoutRange = 0.001...86_400.0

let spec = StageSpec(
    name: "fetch",
    summary: "enrich each record with an HTTP request, many in flight, in input order",
    operands: "URL-TEMPLATE [FILE...]",
    description: """
        Sends one HTTP request per record and adds the response to it: the JSON body goes \
        into the record at --as FIELD (default response), or with --merge its fields are \
        merged into the record (the response's win, as jq's . + $response). Many requests are \
        in flight at once (-c, default 16), and records still come out in input order: a slow \
        request holds back at most 2 × -c + 1 records (memory never grows with the input); \
        with --unordered records are written as their responses arrive.

        URL-TEMPLATE is the inside of a jq string literal: 'http://api.local/users/\\(.id)'. \
        The values it interpolates are percent-encoded as by jq's @uri (so a / or space in a \
        value cannot change the path); the literal parts are sent as written. -H 'Name: value' \
        adds a header (its value a template too, not encoded); --header-from-env NAME=VAR adds \
        header NAME with the value of the environment variable VAR, so that a token is not \
        seen in ps. --body EXPR sends the JSON output of the jq expression EXPR as the body \
        (Content-Type: application/json; the method is then POST unless -X says otherwise).

        A request that fails is retried (--retries, default 3) with exponential backoff and \
        full jitter (a random wait up to 0.25 s, 0.5 s, 1 s, … capped at 30 s) when it failed \
        in a way --retry-on names: by default connection errors, timeouts, 429 and 5xx. A \
        Retry-After header (seconds or an HTTP date) on a 429 or 503 is honoured, and holds \
        back every request to that host until then. A record whose request still fails (a \
        status of 400 or more, a connection error, a timeout, or a body that is not JSON \
        without --raw) is a bad record: see --errors. The reject entry keeps the record, the \
        final status, the URL, the attempts and an excerpt of the body. With --on-fail keep, \
        the record is written instead, with an object at --error-as FIELD (default error) \
        that says what failed. A 3xx response that is not followed (304, or more than 5 \
        redirects) is a response like any other.

        Limits: --rate N/s (or N/m, N/h) spaces requests out with a token bucket of --burst \
        tokens; with --rate-by EXPR each value of EXPR on the record (or each host, with \
        --rate-by host) gets its own bucket. --max-per-key N with --concurrency-by EXPR (or \
        host) keeps at most N requests in flight per key. Keys compare as JSON values (1 and \
        1.0 are the same key). A record waiting for its key holds back the records after it \
        in the output, but not other keys' requests.

        --timeout is a real deadline for the whole request (connect, send, and the whole \
        response), sub-second values honoured. --cache DIR keeps successful (2xx) responses \
        on disk by method, URL and body, so that a rerun after a crash or a fix does not fetch \
        again what it already has (--cache-ttl limits their age). --progress shows requests \
        in flight, done, failed, retries and requests a second; --stats adds them to the \
        counts.

        http:// goes through Weir's own HTTP/1.1 client (keep-alive connections, one pool per \
        host); https:// through the system's URLSession. The http_proxy and no_proxy \
        environment variables are honoured for http:// (and https_proxy, through libcurl, \
        for https://). A closed consumer (| head -5) or SIGINT/SIGTERM cancels the requests \
        in flight and ends the stage at once.
        """,
    options: [
        .value("concurrency", short: "c", "N", default: "16", help: "Requests in flight at once, \(ParsedOptions.rangeText(concurrencyRange))."),
        .flag("unordered", help: "Write records as their responses arrive, not in input order."),
        .value("request", short: "X", "METHOD", help: "The HTTP method (default GET, or POST with --body)."),
        .value("header", short: "H", "'NAME: VALUE'", repeatable: true, help: "Add a header; VALUE is a template like the URL's (not percent-encoded)."),
        .value("header-from-env", "NAME=VAR", repeatable: true, help: "Add header NAME with the value of environment variable VAR (kept out of ps)."),
        .value("body", "EXPR", help: "Send the JSON output of the jq expression EXPR as the request body."),
        .value("as", "FIELD", default: "response", help: "Put the response body at FIELD of the record."),
        .flag("merge", help: "Merge the response object's fields into the record instead (the response's win)."),
        .flag("raw", help: "Store the body as a string, whatever it holds (not parsed as JSON)."),
        .value("status-as", "FIELD", help: "Also put the response status (a number) at FIELD."),
        .value("headers-as", "FIELD", help: "Also put the response headers at FIELD: an object of lower-case names (repeated headers joined with \", \")."),
        .value("timeout", "DURATION", default: "30s", help: "Give up on a request after DURATION (10s, 500ms, 2m) in all, retried as --retry-on says."),
        .value("retries", "N", default: "3", help: "Retry a failed request up to N times, \(ParsedOptions.rangeText(retriesRange))."),
        .value("retry-on", "LIST", default: "connect,timeout,429,5xx", help: "What is retried: a comma list of connect, timeout, statuses (503) and classes (5xx); none for nothing."),
        .value("on-fail", "error|keep", default: "error", choices: OnFail.self, help: "A request that still fails makes a bad record (error), or keeps the record with --error-as FIELD (keep)."),
        .value("error-as", "FIELD", default: "error", help: "With --on-fail keep, where the failure goes: {message, status, url, attempts}."),
        .value("rate", "N/s|N/m", help: "Send at most N requests a second (N/s), minute (N/m) or hour (N/h)."),
        .value("burst", "B", default: "1", help: "With --rate, let up to B requests go at once after a quiet spell, \(ParsedOptions.rangeText(burstRange))."),
        .value("rate-by", "EXPR|host", help: "With --rate, give each key (EXPR's value on the record, or the URL's host) its own rate."),
        .value("concurrency-by", "EXPR|host", help: "With --max-per-key, the key whose requests in flight are limited."),
        .value("max-per-key", "N", help: "At most N requests in flight per --concurrency-by key, \(ParsedOptions.rangeText(maxPerKeyRange))."),
        .value("cache", "DIR", help: "Keep successful responses in DIR and answer repeated requests from it."),
        .value("cache-ttl", "DURATION", help: "With --cache, use only entries younger than DURATION (default: any age)."),
    ] + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "Add each user's record from a service",
            command: "weir-fetch 'http://127.0.0.1:8080/users/\\(.id)' --as user",
            input: "{\"id\":1}\n{\"id\":2}\n",
            output: "{\"id\":1,\"user\":{\"id\":1,\"name\":\"user 1\"}}\n{\"id\":2,\"user\":{\"id\":2,\"name\":\"user 2\"}}\n"),
        StageExample(
            "Merge the response into the record, 64 in flight, 20 a second per retailer",
            command: "weir-fetch 'http://127.0.0.1:8080/items/\\(.sku)' --merge -c 64 --rate 20/s --rate-by .retailer",
            input: "{\"sku\":7,\"retailer\":\"north\"}\n",
            output: "{\"sku\":7,\"retailer\":\"north\",\"id\":7,\"name\":\"user 7\"}\n"),
        StageExample(
            "Keep records whose request failed, with the status",
            command: "weir-fetch 'http://127.0.0.1:8080/users/\\(.id)?status=404' --on-fail keep --retries 0",
            input: "{\"id\":3}\n",
            output: "{\"id\":3,\"error\":{\"message\":\"HTTP status 404\",\"status\":404,\"url\":\"http://127.0.0.1:8080/users/3?status=404\",\"attempts\":1,\"body\":\"{\\\"id\\\": 3, \\\"name\\\": \\\"user 3\\\"}\"}}\n"),
    ]
)

var parsed = StageInvocation(spec)
let urlSource = parsed.takeOperand("URL-TEMPLATE")
let invocation = parsed
let options = invocation.options

// The request.
let urlTemplate = ExpressionOptions.compileTemplate(urlSource, invocation, format: "uri", context: "URL-TEMPLATE: ").program
let bodyProgram = ExpressionOptions.compileOption("body", invocation)
let method = (options.value("request") ?? (bodyProgram == nil ? "GET" : "POST")).uppercased()
if method.isEmpty || !method.utf8.allSatisfy({ HTTPHeaderSyntax.isTokenByte($0) }) {
    invocation.usageError("-X takes a method such as GET or POST, not '\(options.value("request") ?? "")'")
}

/// One header: its name, and its value as a template (or a fixed value from the environment).
struct HeaderTemplate: Sendable {
    let name: String
    let value: Program?
    let fixedValue: String?
}

var headerList: [HeaderTemplate] = []
for header in options.values("header") {
    guard let colon = header.firstIndex(of: ":"), case let name = header[..<colon].trimmingSpaces,
          !name.isEmpty, name.utf8.allSatisfy(HTTPHeaderSyntax.isTokenByte) else {
        invocation.usageError("-H takes 'Name: value', not '\(header)'")
    }
    let value = header[header.index(after: colon)...].trimmingSpaces
    headerList.append(HeaderTemplate(name: name, value: ExpressionOptions.compileTemplate(value, invocation, context: "-H \(name): ").program, fixedValue: nil))
}
for entry in options.values("header-from-env") {
    guard let equals = entry.firstIndex(of: "="), case let name = String(entry[..<equals]), !name.isEmpty,
          name.utf8.allSatisfy(HTTPHeaderSyntax.isTokenByte) else {
        invocation.usageError("--header-from-env takes NAME=VAR, not '\(entry)'")
    }
    let variable = String(entry[entry.index(after: equals)...])
    guard let value = SystemIO.environment(variable) else {
        invocation.usageError("--header-from-env \(name): the environment variable '\(variable)' is not set")
    }
    guard HTTPHeaderSyntax.isValidValue(value) else {
        invocation.usageError("--header-from-env \(name): the value of '\(variable)' holds a line break or a control character")
    }
    headerList.append(HeaderTemplate(name: name, value: nil, fixedValue: value))
}

let headerTemplates = headerList

// The response.
let merges = options.flag("merge")
let raw = options.flag("raw")
if merges, options.value("as") != nil { invocation.usageError("--merge and --as are two places for the response: give one") }
if merges, raw { invocation.usageError("--merge needs a JSON object response; --raw stores a string") }
let field = options.value("as") ?? "response"
let statusField = options.value("status-as")
let headersField = options.value("headers-as")

// Failures.
let timeout = invocation.duration("timeout", default: 30, range: timeoutRange)
let retries = invocation.integer("retries", default: 3, range: retriesRange)
guard let retryConditions = RetryPolicy.Conditions(parsing: options.value("retry-on") ?? "connect,timeout,429,5xx") else {
    invocation.usageError("--retry-on takes a comma list of connect, timeout, statuses (503) and classes (5xx), or none; not '\(options.value("retry-on") ?? "")'")
}
let retryPolicy = RetryPolicy(retries: retries, conditions: retryConditions)
enum OnFail: String, CaseIterable { case error, keep }
let keepsFailures = invocation.choice("on-fail", default: OnFail.error) == .keep
let errorField = options.value("error-as") ?? "error"
if options.value("error-as") != nil, !keepsFailures { invocation.usageError("--error-as goes with --on-fail keep") }

// Limits.
/// What a limit is per: nothing (one for all), the URL's host, or an expression's value.
enum LimitKey: Sendable {
    case host
    case expression(Program)
}

func limitKey(_ option: String) -> LimitKey? {
    guard let text = options.value(option) else { return nil }
    if text == "host" { return .host }
    return ExpressionOptions.compileOption(option, invocation).map(LimitKey.expression)
}

let concurrency = invocation.integer("concurrency", default: 16, range: concurrencyRange)
let rate = invocation.checked { () throws(UsageError) in try options.rate("rate") }
let burst = invocation.integer("burst", default: 1, range: burstRange)
let rateKey = limitKey("rate-by")
if rate == nil, options.value("burst") != nil || rateKey != nil { invocation.usageError("--burst and --rate-by go with --rate") }
let concurrencyKey = limitKey("concurrency-by")
let maxPerKey: Int? = options.value("max-per-key") == nil ? nil : invocation.integer("max-per-key", default: 1, range: maxPerKeyRange)
if (concurrencyKey == nil) != (maxPerKey == nil) { invocation.usageError("--concurrency-by and --max-per-key go together") }

// The cache.
let cacheTTL = invocation.duration("cache-ttl", default: nil, range: 0...1e12)
let cache: ResponseCache? = options.value("cache").map { directory in
    do throws(IOError) { return try ResponseCache(directory: directory, timeToLive: cacheTTL) } catch { invocation.usageError(error.description) }
}
if cache == nil, cacheTTL != nil { invocation.usageError("--cache-ttl goes with --cache") }

/// What every worker shares: the transport, the limits, the counters.
struct FetchShared: Sendable {
    let transport: any HTTPTransport
    let rateLimiter: AsyncRateLimiter<String>?
    let keyedConcurrency: KeyedSemaphore<String>?
    let pauses = HostPauses()
    let requests = StageCounter("requests", showsRate: true)
    let inFlight = StageCounter("in_flight")
    let retried = StageCounter("retries")
    let failed = StageCounter("failed")
    let cacheHits = StageCounter("cache_hits")

    var counters: [StageCounter] { [requests, inFlight, retried, failed, cacheHits] }
}

var httpConfiguration = HTTPClientConfiguration()
httpConfiguration.maxConnectionsPerHost = concurrency  // a connection for every request in flight
let shared = FetchShared(
    transport: HTTPClient(configuration: httpConfiguration),
    rateLimiter: rate.map { AsyncRateLimiter(tokensPerSecond: $0.perSecond, burst: burst) },
    keyedConcurrency: maxPerKey.map { KeyedSemaphore(limit: $0) })

/// Builds a record's request, sends it (cached, limited, retried), and adds the response.
struct FetchRecord: AsyncRecordTransform {
    let shared: FetchShared
    var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))

    /// How a record's request ended.
    private enum Result {
        case response(HTTPResponse, attempts: Int)
        case failure(message: String, status: Int?, body: [UInt8], attempts: Int)
    }

    mutating func process(_ record: [UInt8], at position: RecordPosition, into output: inout [UInt8]) async throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record)
        guard case .object = value else { throw RecordError("the record is not an object, so the response has nowhere to go") }
        let request = try makeRequest(value, at: position)
        let host = (try? HTTPURL.parse(request.url))?.host ?? ""
        let result = await send(request, host: host, rateKey: try key(rateKey, value, host, position), concurrencyKey: try key(concurrencyKey, value, host, position))
        switch result {
        case .response(let response, _):
            try write(value, record: record, response: response, into: &output)
            return 1
        case .failure(let message, let status, let body, let attempts):
            if Task.isCancelled { throw RecordError("cancelled") }  // the run is stopping: never reported
            shared.failed.add()
            let excerpt = HTTPBodyExcerpt.text(body)
            var details: [(name: String, value: JSONValue)] = [("url", .string(request.url)), ("attempts", .number(JSONNumber(literal: String(attempts))))]
            if let status { details.insert(("status", .number(JSONNumber(literal: String(status)))), at: 0) }
            if !body.isEmpty { details.append(("body", .string(excerpt))) }
            guard keepsFailures else {
                var error = RecordError("\(message) from \(request.url)" + (body.isEmpty ? "" : ": \(excerpt)"))
                error.details = details
                throw error
            }
            var object = JSONObject([("message", .string(message))])
            for (name, detail) in details { object[name] = detail }
            let start = output.count
            try RecordDecoding.compact(record, into: &output)
            try ObjectEditing.setField(errorField, to: .object(object), inCompactObjectFrom: start, of: &output)
            output.append(0x0A)
            return 1
        }
    }

    /// The request for `value`: URL, method, headers, body.
    private func makeRequest(_ value: JSONValue, at position: RecordPosition) throws(RecordError) -> HTTPRequest {
        guard case .string(let url)? = try urlTemplate.firstOutput(of: value, at: position) else {
            throw RecordError("URL-TEMPLATE gave no URL for this record")
        }
        var headers: [(name: String, value: String)] = []
        for header in headerTemplates {
            var text = header.fixedValue ?? ""
            if let program = header.value, let output = try program.firstOutput(of: value, at: position) {
                if case .string(let string) = output { text = string } else { text = JSONWriter.string(output) }
            }
            guard HTTPHeaderSyntax.isValidValue(text) else { throw RecordError("header \(header.name) would hold a line break or a control character") }
            headers.append((header.name, text))
        }
        var body: [UInt8]? = nil
        if let bodyProgram {
            guard let output = try bodyProgram.firstOutput(of: value, at: position) else { throw RecordError("--body gave no value for this record") }
            body = Array(JSONWriter.string(output).utf8)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { headers.append(("Content-Type", "application/json")) }
        }
        if !headers.contains(where: { $0.name.lowercased() == "accept" }) { headers.append(("Accept", "application/json")) }
        return HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout)
    }

    /// The key of a limit for this record.
    private func key(_ limit: LimitKey?, _ value: JSONValue, _ host: String, _ position: RecordPosition) throws(RecordError) -> String? {
        switch limit {
        case nil: return nil
        case .host: return host
        case .expression(let program):
            guard let output = try program.firstOutput(of: value, at: position) else { throw RecordError("the limit's key expression yielded no value") }
            var text: [UInt8] = []
            GroupingKey.write(output, into: &text)
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// Sends `request` (from the cache if it is there), within the limits, retrying as the policy says.
    private mutating func send(_ request: HTTPRequest, host: String, rateKey: String?, concurrencyKey: String?) async -> Result {
        if let cache, let response = cache.lookup(request) {
            shared.cacheHits.add()
            return .response(response, attempts: 0)
        }
        var attempt = 0
        while true {
            attempt += 1
            guard await shared.pauses.wait(host) else { return .failure(message: "cancelled", status: nil, body: [], attempts: attempt) }
            if let limiter = shared.rateLimiter, !(await limiter.acquire(rateKey ?? "")) {
                return .failure(message: "cancelled", status: nil, body: [], attempts: attempt)
            }
            if let keyed = shared.keyedConcurrency, let concurrencyKey, !(await keyed.acquire(concurrencyKey)) {
                return .failure(message: "cancelled", status: nil, body: [], attempts: attempt)
            }
            shared.inFlight.add()
            let outcome: Swift.Result<HTTPResponse, HTTPError>
            do throws(HTTPError) {
                outcome = .success(try await shared.transport.send(request))
            } catch {
                outcome = .failure(error)
            }
            shared.inFlight.add(-1)
            shared.requests.add()
            if let keyed = shared.keyedConcurrency, let concurrencyKey { keyed.release(concurrencyKey) }
            let retryable: Bool
            switch outcome {
            case .success(let response):
                if response.status < 400 {
                    if let cache, (200..<300).contains(response.status) { try? cache.store(response, for: request) }
                    return .response(response, attempts: attempt)
                }
                retryable = retryPolicy.conditions.retries(status: response.status)
                if retryable, attempt <= retryPolicy.retries, let after = response.header("Retry-After"),
                   let seconds = RetryAfter.seconds(after, now: SystemIO.wallClockSeconds()) {
                    // The server said when: every request to this host waits that long.
                    shared.pauses.pause(host, for: min(seconds, 3600))
                    shared.retried.add()
                    continue
                }
                if !retryable || attempt > retryPolicy.retries {
                    return .failure(message: "HTTP status \(response.status)", status: response.status, body: response.body, attempts: attempt)
                }
            case .failure(let error):
                if error == .cancelled || Task.isCancelled { return .failure(message: "cancelled", status: nil, body: [], attempts: attempt) }
                if !retryPolicy.conditions.retries(error) || attempt > retryPolicy.retries {
                    return .failure(message: error.description, status: nil, body: [], attempts: attempt)
                }
            }
            shared.retried.add()
            let wait = retryPolicy.backoff(retry: attempt, using: &random)
            do { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) } catch {
                return .failure(message: "cancelled", status: nil, body: [], attempts: attempt)
            }
        }
    }

    /// Writes the record with the response in its place (and its status and headers).
    private func write(_ value: JSONValue, record: [UInt8], response: HTTPResponse, into output: inout [UInt8]) throws(RecordError) {
        let body: JSONValue
        if raw {
            body = .string(String(decoding: response.body, as: UTF8.self))
        } else if response.body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            body = .null  // no body (204, HEAD, an empty 200)
        } else {
            do throws(JSONError) {
                body = try JSONParser.parse(response.body)
            } catch {
                var problem = RecordError("the response (status \(response.status)) is not JSON: \(error.message) (use --raw to keep it as text): \(HTTPBodyExcerpt.text(response.body))")
                problem.details = [("status", .number(JSONNumber(literal: String(response.status)))), ("body", .string(HTTPBodyExcerpt.text(response.body)))]
                throw problem
            }
        }
        let start = output.count
        if merges {
            guard case .object(var object) = value else { throw RecordError("the record is not an object") }
            guard case .object(let fields) = body else {
                throw RecordError("--merge needs a JSON object response, not \(HTTPBodyExcerpt.kind(body)): \(HTTPBodyExcerpt.text(response.body))")
            }
            for (key, fieldValue) in fields { object[key] = fieldValue }
            JSONWriter.write(.object(object), into: &output)
        } else {
            try RecordDecoding.compact(record, into: &output)
            try ObjectEditing.setField(field, to: body, inCompactObjectFrom: start, of: &output)
        }
        if let statusField {
            try ObjectEditing.setField(statusField, to: .number(JSONNumber(literal: String(response.status))), inCompactObjectFrom: start, of: &output)
        }
        if let headersField {
            var headers = JSONObject([])
            for (name, headerValue) in response.headers {
                let key = name.lowercased()
                if case .string(let earlier)? = headers[key] { headers[key] = .string(earlier + ", " + headerValue) } else { headers[key] = .string(headerValue) }
            }
            try ObjectEditing.setField(headersField, to: .object(headers), inCompactObjectFrom: start, of: &output)
        }
        output.append(0x0A)
    }
}

await invocation.runConcurrently(concurrency: concurrency, ordered: !options.flag("unordered"), counters: shared.counters) {
    FetchRecord(shared: shared)
}
