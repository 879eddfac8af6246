/// A rate as a user writes it: a number of events per second, minute or hour (`20/s`,
/// `100/m`, `0.5/s`, `3600/h`), for `--rate` options (`weir-throttle`, `weir-fetch`).
package struct Rate: Sendable, Equatable, CustomStringConvertible {
    /// Events per ``period``: the number before the slash (> 0).
    package var count: Double
    /// The unit after the slash, in seconds (1, 60 or 3600).
    package var period: Double
    /// The text as given.
    package var description: String

    /// Events per second.
    package var perSecond: Double { count / period }

    /// The units accepted after the slash, with their length in seconds.
    package static let units: [(name: String, seconds: Double)] = [("s", 1), ("m", 60), ("h", 3600)]

    /// The largest N accepted, so that nothing computed from a rate runs away.
    static let maximumCount = 1_000_000_000.0

    /// Parses `N/s`, `N/m` or `N/h`, N a positive decimal number up to ``maximumCount``
    /// (`20`, `0.5`, `.25`); nil for anything else (no sign, exponent, spaces or other units).
    package init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let unit = Self.units.first(where: { $0.name == parts[1] }) else { return nil }
        let number = parts[0]
        let digits = number.utf8.filter { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        let dots = number.utf8.filter { $0 == UInt8(ascii: ".") }.count
        guard digits > 0, dots <= 1, digits + dots == number.utf8.count, number.last != ".",
              let count = Double(number), count > 0, count <= Self.maximumCount else { return nil }
        self.count = count
        period = unit.seconds
        description = text
    }
}

extension ParsedOptions {
    /// The value of `long` as a ``Rate`` (`20/s`, `100/m`, `0.5/s`), or nil when absent.
    package func rate(_ long: String) throws(UsageError) -> Rate? {
        guard let text = value(long) else { return nil }
        guard let rate = Rate(parsing: text) else {
            throw UsageError("option '--\(long)' takes a rate such as 20/s, 100/m or 0.5/s (a positive number up to 1000000000 per s, m or h), not '\(text)'")
        }
        return rate
    }
}
