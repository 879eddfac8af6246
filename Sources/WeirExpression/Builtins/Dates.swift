#if canImport(Glibc)
import Glibc
#endif
import WeirCore

extension Builtins {
    /// Date builtins over Glibc: `now`, `gmtime`, `localtime`, `mktime`, `strftime`, `strptime`, … (the ISO 8601 helpers are jq-defined).
    static var dateBuiltins: [String: Builtin] {
        [
            "now/0": .unary { _ in
                var time = timespec()
                clock_gettime(CLOCK_REALTIME, &time)
                return .number(Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
            },
            "gmtime/0": .unary { value in try Dates.brokenDown(value, local: false) },
            "localtime/0": .unary { value in try Dates.brokenDown(value, local: true) },
            "mktime/0": .unary { value in
                guard case .array = value else { throw EvaluationError("mktime requires array inputs") }
                var time = try Dates.brokenDownTime(from: value, function: "mktime")
                return .number(Double(timegm(&time)))
            },
            "strftime/1": .values { value, arguments in try Dates.format(value, arguments[0], local: false, name: "strftime/1") },
            "strflocaltime/1": .values { value, arguments in try Dates.format(value, arguments[0], local: true, name: "strflocaltime/1") },
            "strptime/1": .values { value, arguments in
                guard case .string(let text) = value, case .string(let format) = arguments[0] else {
                    throw EvaluationError("strptime/1 requires string inputs and arguments")
                }
                var time = tm()
                let end = text.withCString { textPointer in
                    format.withCString { formatPointer in parseTime(textPointer, formatPointer, &time) }
                }
                guard let end, end.pointee == 0 else {
                    // jq reads both as C strings, so its message stops at a NUL too.
                    let shown = text.split(separator: "\0", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                    throw EvaluationError("date \"\(shown)\" does not match format \"\(format)\"")
                }
                var normalized = time
                _ = timegm(&normalized)
                time.tm_wday = normalized.tm_wday
                time.tm_yday = normalized.tm_yday
                return Dates.array(from: time, seconds: Double(time.tm_sec))
            },
        ]
    }
}

/// Glibc's `strptime`, which the Swift Glibc module does not export.
@_silgen_name("strptime")
private func parseTime(_ text: UnsafePointer<CChar>, _ format: UnsafePointer<CChar>, _ time: UnsafeMutablePointer<tm>) -> UnsafeMutablePointer<CChar>?

/// Conversions between jq's broken-down time arrays and Glibc's `tm`.
enum Dates {
    /// `gmtime` / `localtime`: seconds since the epoch to `[year, month0, day, hours, minutes, seconds, weekday, yearday]`.
    static func brokenDown(_ value: JSONValue, local: Bool) throws -> JSONValue {
        guard case .number(let number) = value else {
            throw EvaluationError("\(local ? "localtime" : "gmtime")() requires numeric inputs")
        }
        // As jq 1.8: C's `time_t secs = fsecs` (toward zero; NaN and out of range are LONG_MIN on
        // x86-64), then the error of a failed gmtime_r (a year beyond C's int) instead of garbage.
        let seconds = number.double
        var time = time_t(CConversion.long(seconds))
        var result = tm()
        let converted = local ? localtime_r(&time, &result) : gmtime_r(&time, &result)
        guard converted != nil else { throw EvaluationError("error converting number of seconds since epoch to datetime") }
        return array(from: result, seconds: Double(result.tm_sec) + (seconds - seconds.rounded(.down)))
    }

    /// A broken-down time array from a `tm`.
    static func array(from time: tm, seconds: Double) -> JSONValue {
        .array([
            .number(Int(time.tm_year) + 1900), .number(Int(time.tm_mon)), .number(Int(time.tm_mday)),
            .number(Int(time.tm_hour)), .number(Int(time.tm_min)), .number(seconds),
            .number(Int(time.tm_wday)), .number(Int(time.tm_yday)),
        ])
    }

    /// A `tm` from a broken-down time array.
    static func brokenDownTime(from value: JSONValue, function: String) throws -> Glibc.tm {
        guard case .array(let parts) = value else {
            throw EvaluationError("\(function) requires array of 6 numbers")
        }
        // As jq 1.8's jv2tm: the first eight elements count, NaN is refused, and each number
        // is clamped to C's int (the year after subtracting 1900).
        var numbers: [Int32] = []
        for part in parts.prefix(8) {
            guard case .number(let number) = part, !number.double.isNaN else {
                throw EvaluationError("\(function) requires parsed datetime inputs")
            }
            let field = numbers.isEmpty ? number.double - 1900 : number.double
            numbers.append(field <= -2147483648 ? Int32.min : field >= 2147483647 ? Int32.max : Int32(field.rounded(.towardZero)))
        }
        while numbers.count < 6 { numbers.append(0) }
        var time = Glibc.tm()
        time.tm_year = numbers[0]
        time.tm_mon = numbers[1]
        time.tm_mday = numbers[2]
        time.tm_hour = numbers[3]
        time.tm_min = numbers[4]
        time.tm_sec = numbers[5]
        if numbers.count > 6 { time.tm_wday = numbers[6] }
        if numbers.count > 7 { time.tm_yday = numbers[7] }
        return time
    }

    /// `strftime(format)` of a number or broken-down time.
    static func format(_ value: JSONValue, _ format: JSONValue, local: Bool, name: String) throws -> JSONValue {
        var input = value
        if case .number = value { input = try brokenDown(value, local: local) }
        guard case .array = input else { throw EvaluationError("\(name) requires parsed datetime inputs") }
        guard case .string(let formatText) = format else { throw EvaluationError("\(name) requires a string format") }
        var time = try brokenDownTime(from: input, function: name)
        if local {
            var copy = time
            var seconds = timegm(&copy)
            localtime_r(&seconds, &time)
        } else {
            // As jq 1.8: the fields are normalized first (`[2024,13,40]` is 2025-03-12, and the
            // weekday and day of the year are recomputed).
            _ = timegm(&time)
        }
        var buffer = [CChar](repeating: 0, count: 512)
        let count = formatText.withCString { strftime(&buffer, buffer.count, $0, &time) }
        if count == 0 && !formatText.isEmpty { throw EvaluationError("\(name): unknown system failure") }
        return .string(String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
