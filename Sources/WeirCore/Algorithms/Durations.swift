/// Spans of time as options write them: `10s`, `500ms`, `1.5s`, `2m`, `1h`, `250us`, or a
/// bare number of seconds (`0.5`), as `timeout(1)` and curl's `--max-time` users expect.
package enum DurationText {
    private static let units: [(suffix: String, seconds: Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]

    /// The seconds `text` stands for, or nil when it is not a non-negative finite duration.
    package static func seconds(_ text: String) -> Double? {
        var number = Substring(text)
        var scale = 1.0
        for unit in units where number.hasSuffix(unit.suffix) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite else { return nil }
        let seconds = value * scale
        return seconds.isFinite ? seconds : nil
    }

    /// `1.5 s`, `500 ms`: a duration as messages show it.
    package static func text(_ seconds: Double) -> String {
        if seconds < 1, seconds > 0 { return "\(JSONNumber.format((seconds * 1e6).rounded() / 1e3)) ms" }
        return "\(JSONNumber.format((seconds * 1e3).rounded() / 1e3)) s"
    }
}

extension ParsedOptions {
    /// The value of `long` as seconds (``DurationText``) within `range`, or `defaultValue` when absent.
    package func duration(_ long: String, default defaultValue: Double?, range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = value(long) else { return defaultValue }
        guard let seconds = DurationText.seconds(text), range.contains(seconds) else {
            throw UsageError("option '--\(long)' takes a duration from \(DurationText.text(range.lowerBound)) to \(DurationText.text(range.upperBound)) (such as 10s, 500ms, 2m), not '\(text)'")
        }
        return seconds
    }
}

extension StageInvocation {
    /// The value of option `name` as seconds in `range`; a usage error otherwise.
    package func duration(_ name: String, default defaultValue: Double?, range: ClosedRange<Double>) -> Double? {
        checked { () throws(UsageError) in try options.duration(name, default: defaultValue, range: range) }
    }
}
