/// A quantile as the rational `numerator / denominator` (`p90` is 90/100, `quantile(0.999)`
/// is 999/1000), so the rank arithmetic is exact.
package struct QuantileFraction: Sendable, Equatable {
    package let numerator: Int
    package let denominator: Int

    /// A fraction in 0...1 from its decimal text (`0.95`, `1`, `.5`); denominators below 100
    /// are written over 100, as percentiles are; nil for anything else or more than 9 decimals.
    package init?(decimalText text: String) {
        guard let decimal = DecimalText(parsing: text), !decimal.isNegative, decimal.scale <= 9 else { return nil }
        let scale = max(decimal.scale, 2)
        let widened = decimal.rescaled(to: scale, roundingUp: false)
        guard let numerator = Int(String(decoding: widened.digits, as: UTF8.self)) else { return nil }
        var denominator = 1
        for _ in 0..<scale { denominator *= 10 }
        guard numerator <= denominator else { return nil }
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The fraction as a `Double`.
    package var double: Double { Double(numerator) / Double(denominator) }
}

/// Exact quantiles of sorted numbers, by linear interpolation between order statistics:
/// with h = q·(n − 1), j = ⌊h⌋ and δ = the fraction of h, the quantile is x[j] when δ = 0
/// and (x[j]·(b − d) + x[j+1]·d) / b otherwise (q = a/b, d = a·(n − 1) mod b). This is
/// numpy's default (`linear`), R's type 7, and exactly the arithmetic of Python's
/// `statistics.quantiles(data, n=100, method='inclusive')` for percentiles.
package enum ExactQuantile {
    /// The q-quantile of `sorted` (ascending, not empty): `.element(j)` when it falls on an
    /// element (written as it came), else the interpolated `Double`.
    package enum Result: Equatable {
        case element(Int)
        case interpolated(Double)
    }

    /// The quantile of `count` sorted values read through `value(at:)`.
    package static func quantile(_ fraction: QuantileFraction, count: Int, value: (Int) -> Double) -> Result {
        precondition(count > 0)
        let scaled = fraction.numerator.multipliedFullWidth(by: count - 1)
        let (index, remainder) = fraction.denominator.dividingFullWidth((scaled.high, scaled.low))
        if remainder == 0 || index + 1 >= count { return .element(index) }
        let b = Double(fraction.denominator)
        return .interpolated((value(index) * (b - Double(remainder)) + value(index + 1) * Double(remainder)) / b)
    }
}

/// A mergeable quantile sketch with a relative-error guarantee (DDSketch, Masson et al.
/// 2019): numbers fall in logarithmic buckets of ratio γ = (1 + α)/(1 − α), α = 1%, and the
/// q-quantile is read off the bucket counts.
///
/// Guarantee: for the order statistic x = x[⌊q·(n − 1)⌋] (0-based, ascending), the answer
/// is within α·|x| of x. Merging adds bucket counts, so it is exact and order-free: merged
/// sketches over the parts of a data set are identical to the sketch over all of it, and
/// answers do not depend on the order or the grouping of merges. Memory: one count per
/// occupied bucket, at most ~230 per factor of 10 in the range of magnitudes (about 2,100
/// for values from 10^-9 to 10^9 of one sign), whatever the number of values.
/// Magnitudes below 10^-300 count as zero; non-finite values are not accepted.
package struct RelativeErrorSketch: Sendable, Equatable {
    /// The relative accuracy α.
    package static let relativeAccuracy = 0.01
    private static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    private static let logGamma = log(gamma)
    private static let smallest = 1e-300

    private var positive: [Int32: Int] = [:]
    private var negative: [Int32: Int] = [:]
    private(set) var zeroCount = 0
    /// How many values.
    package private(set) var count = 0

    package init() {}

    @inline(__always)
    private static func bucket(_ magnitude: Double) -> Int32 {
        Int32((log(magnitude) / logGamma).rounded(.up))
    }

    private static func representative(_ bucket: Int32) -> Double {
        2 * pow(gamma, Double(bucket)) / (gamma + 1)
    }

    /// Adds a finite number.
    @inline(__always)
    package mutating func add(_ value: Double) {
        count += 1
        if abs(value) < Self.smallest {
            zeroCount += 1
        } else if value > 0 {
            positive[Self.bucket(value), default: 0] += 1
        } else {
            negative[Self.bucket(-value), default: 0] += 1
        }
    }

    /// Takes in another sketch (bucket counts add).
    package mutating func merge(_ other: RelativeErrorSketch) {
        for (bucket, count) in other.positive { positive[bucket, default: 0] += count }
        for (bucket, count) in other.negative { negative[bucket, default: 0] += count }
        zeroCount += other.zeroCount
        count += other.count
    }

    /// The estimated q-quantile; nil when empty.
    package func quantile(_ fraction: QuantileFraction) -> Double? {
        guard count > 0 else { return nil }
        let scaled = fraction.numerator.multipliedFullWidth(by: count - 1)
        let rank = fraction.denominator.dividingFullWidth((scaled.high, scaled.low)).quotient
        var seen = 0
        for bucket in negative.keys.sorted(by: >) {
            seen += negative[bucket]!
            if seen > rank { return -Self.representative(bucket) }
        }
        seen += zeroCount
        if seen > rank { return 0 }
        for bucket in positive.keys.sorted() {
            seen += positive[bucket]!
            if seen > rank { return Self.representative(bucket) }
        }
        return positive.keys.max().map(Self.representative) ?? 0
    }

    /// The state for a partial aggregate: `[zero count, [bucket, count, …] positive, […] negative]`,
    /// buckets ascending (the same sketch always gives the same text).
    package var state: JSONValue {
        func list(_ buckets: [Int32: Int]) -> JSONValue {
            .array(buckets.keys.sorted().flatMap { [JSONValue.number(Int($0)), .number(buckets[$0]!)] })
        }
        return .array([.number(zeroCount), list(positive), list(negative)])
    }

    /// A sketch from its ``state``; nil for anything else.
    package init?(state: JSONValue) {
        guard case .array(let parts) = state, parts.count == 3,
              case .number(let zeros) = parts[0], let zeroCount = zeros.intValue, zeroCount >= 0 else { return nil }
        func buckets(_ value: JSONValue) -> [Int32: Int]? {
            guard case .array(let items) = value, items.count % 2 == 0 else { return nil }
            var result: [Int32: Int] = [:]
            for index in stride(from: 0, to: items.count, by: 2) {
                guard case .number(let bucket) = items[index], let key = bucket.intValue, let key32 = Int32(exactly: key),
                      case .number(let count) = items[index + 1], let number = count.intValue, number > 0 else { return nil }
                result[key32, default: 0] += number
            }
            return result
        }
        guard let positive = buckets(parts[1]), let negative = buckets(parts[2]) else { return nil }
        self.positive = positive
        self.negative = negative
        self.zeroCount = zeroCount
        self.count = zeroCount + positive.values.reduce(0, +) + negative.values.reduce(0, +)
    }

    /// Approximate heap bytes held (for `--stats`).
    package var heapBytes: Int { (positive.capacity + negative.capacity) * 16 }
}

#if canImport(Glibc)
import Glibc
#endif
