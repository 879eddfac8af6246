import Glibc
import Synchronization

/// When and how long to retry a request: exponential backoff with full jitter (a random
/// wait from 0 to `base · 2^attempt`, capped), on the failures ``conditions`` names.
package struct RetryPolicy: Sendable {
    /// What a failed attempt may be retried on.
    package struct Conditions: Sendable, Equatable {
        /// Connection failures: resolve, connect, reset, malformed reply, TLS.
        var connectionErrors = true
        /// The request's deadline passing.
        package var timeouts = true
        /// Statuses retried exactly (429, 503).
        package var statuses: Set<Int> = [429]
        /// Status classes retried (5 for 5xx).
        var statusClasses: Set<Int> = [5]

        package init() {}

        /// The default set: `connect,timeout,429,5xx`.
        package static let standard = Conditions()

        /// Parses a comma list of `connect`, `timeout`, a status (`503`) and status classes
        /// (`5xx`); `none` for no retries at all. Nil when an item is none of those.
        package init?(parsing text: String) {
            connectionErrors = false
            timeouts = false
            statuses = []
            statusClasses = []
            let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            if items == ["none"] { return }
            for item in items {
                if item == "connect" { connectionErrors = true; continue }
                if item == "timeout" { timeouts = true; continue }
                if item.count == 3, let code = Int(item), (100...599).contains(code) { statuses.insert(code); continue }
                if item.count == 3, item.hasSuffix("xx"), let digit = Int(item.prefix(1)), (1...5).contains(digit) { statusClasses.insert(digit); continue }
                return nil
            }
        }

        /// True when an attempt that got `status` may be retried.
        package func retries(status: Int) -> Bool {
            statuses.contains(status) || statusClasses.contains(status / 100)
        }

        /// True when an attempt that failed with `error` may be retried.
        package func retries(_ error: HTTPError) -> Bool {
            if case .timedOut = error { return timeouts }
            return connectionErrors && error.isTransient
        }
    }

    /// Retries after the first attempt (0: none).
    package var retries: Int
    /// What is retried.
    package var conditions: Conditions
    /// The first backoff's upper bound in seconds; each retry doubles it.
    package var baseDelay: Double
    /// No backoff is longer than this.
    package var maxDelay: Double

    package init(retries: Int, conditions: Conditions = .standard, baseDelay: Double = 0.25, maxDelay: Double = 30) {
        self.retries = retries
        self.conditions = conditions
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before retry number `retry` (1 for the first): uniform in 0...min(maxDelay, baseDelay · 2^(retry−1)).
    package func backoff<Generator: RandomNumberGenerator>(retry: Int, using generator: inout Generator) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(max(0, retry - 1))))
        return ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0
    }
}

/// The `Retry-After` header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
package enum RetryAfter {
    /// The seconds to wait that `value` asks for, measured from `now` (seconds since the
    /// epoch) for a date; nil when it is neither form. A date in the past gives 0.
    package static func seconds(_ value: String, now: Double) -> Double? {
        let text = value.trimmingSpaces
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Double(text)
        }
        guard let date = HTTPDate.epochSeconds(text) else { return nil }
        return max(0, date - now)
    }
}

/// Parses the three date forms HTTP allows (RFC 9110 §5.6.7): IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and
/// asctime (`Sun Nov  6 08:49:37 1994`).
package enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since the epoch, or nil.
    package static func epochSeconds(_ text: String) -> Double? {
        let words = text.split(whereSeparator: { $0 == " " }).map(String.init)
        var day: Int?, month: Int?, year: Int?, clock: String?
        if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
            // IMF-fixdate.
            day = Int(words[1]); month = months.firstIndex(of: words[2]).map { $0 + 1 }; year = Int(words[3]); clock = words[4]
        } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
            // RFC 850: two-digit years are taken as 19xx before 70, 20xx otherwise... as RFC 9110 advises, the nearest century not more than 50 years ahead.
            let parts = words[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let shortYear = Int(parts[2]) else { return nil }
            day = Int(parts[0]); month = months.firstIndex(of: parts[1]).map { $0 + 1 }; clock = words[2]
            year = parts[2].count == 2 ? (shortYear < 70 ? 2000 + shortYear : 1900 + shortYear) : shortYear
        } else if words.count == 5 {
            // asctime.
            month = months.firstIndex(of: words[1]).map { $0 + 1 }; day = Int(words[2]); clock = words[3]; year = Int(words[4])
        }
        guard let day, let month, let year, let clock, (1...31).contains(day) else { return nil }
        let time = clock.split(separator: ":").compactMap { Int($0) }
        guard time.count == 3, (0...23).contains(time[0]), (0...59).contains(time[1]), (0...60).contains(time[2]) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + time[0] * 3600 + time[1] * 60 + time[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}

/// Pauses asked for by servers (`Retry-After`), shared by every request to the same host:
/// once one response says "wait 5 s", no request to that host goes out before then.
package final class HostPauses: Sendable {
    private let until = Mutex<[String: Double]>([:])

    package init() {}

    /// Holds requests to `host` back until `seconds` from now (a later pause wins).
    package func pause(_ host: String, for seconds: Double) {
        let end = SystemIO.monotonicSeconds() + seconds
        until.withLock { $0[host] = max($0[host] ?? 0, end) }
    }

    /// Waits until `host` is not paused; false when the task was cancelled meanwhile.
    package func wait(_ host: String) async -> Bool {
        while true {
            if Task.isCancelled { return false }
            let now = SystemIO.monotonicSeconds()
            let end = until.withLock { pauses -> Double? in
                guard let end = pauses[host] else { return nil }
                if end <= now { pauses[host] = nil; return nil }
                return end
            }
            guard let end else { return true }
            do { try await Task.sleep(nanoseconds: UInt64((end - now) * 1e9) + 1) } catch { return false }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    package var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
