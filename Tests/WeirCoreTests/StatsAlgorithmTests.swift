import Testing
@testable import WeirCore

/// The algorithms of `weir-stats`: exact decimal sums and moments, HyperLogLog, the
/// relative-error quantile sketch and exact interpolated quantiles.
@Suite struct StatsAlgorithmTests {
    private func sum(_ literals: [String]) -> ExactSum {
        var sum = ExactSum()
        for literal in literals { sum.add(DecimalTerm(JSONNumber(literal: literal))) }
        return sum
    }

    @Test func decimalsAddWithoutBinaryRounding() {
        #expect(sum(["0.1", "0.2"]).jsonNumber.text == "0.3")
        #expect(sum(["1.10", "2.20"]).jsonNumber.text == "3.3")
        #expect(sum(["1e2", "5E-1", "-0.5"]).jsonNumber.text == "100")
        #expect(sum([]).jsonNumber.text == "0")
        #expect(sum(["-0.25", "0.05"]).jsonNumber.text == "-0.2")
    }

    @Test func bigIntegersAreExact() {
        let big = "123456789012345678901234567890123456789012345678901234567890"
        #expect(sum([big, "1"]).jsonNumber.text == "123456789012345678901234567890123456789012345678901234567891")
        #expect(sum([big, "-" + big]).jsonNumber.text == "0")
        // Many values near Int128's edge: the fast accumulator overflows into the exact one.
        let near = "99999999999999999999999999999999999999"
        #expect(sum(Array(repeating: near, count: 10)).jsonNumber.text == "999999999999999999999999999999999999990")
        #expect(sum(["18446744073709551616", "18446744073709551616"]).jsonNumber.text == "36893488147419103232")
    }

    @Test func mixedScalesAndOverflowAgree() {
        // Rescaling the accumulator as finer scales arrive, and past Int128.
        #expect(sum(["1", "0.001", "0.0000000000000000000000000000000000001"]).jsonNumber.text == "1.0010000000000000000000000000000000001")
        #expect(sum(["1e-50", "1"]).jsonNumber.text == "1." + String(repeating: "0", count: 49) + "1")
        #expect(sum(["1e100", "1"]).jsonNumber.text == "1" + String(repeating: "0", count: 99) + "1")
    }

    @Test func computedNumbersCountAsTheirPrintedDecimal() {
        var total = ExactSum()
        total.add(DecimalTerm(JSONNumber(0.1 + 0.2)))
        #expect(total.jsonNumber.text == "0.30000000000000004")
        total.add(DecimalTerm(JSONNumber(.infinity)))
        #expect(total.exact == nil && total.double == .infinity)
    }

    @Test func mergingEqualsOneSumAndStatesRoundTrip() {
        let values = (0..<500).map { "\($0 * 37 % 1000 - 400).\($0 % 100)" } + ["123456789012345678901234567890"]
        let whole = sum(values)
        var merged = sum(Array(values[..<200]))
        merged.merge(sum(Array(values[200...])))
        #expect(merged.jsonNumber.text == whole.jsonNumber.text)
        #expect(ExactSum(stateText: whole.stateText)?.jsonNumber.text == whole.jsonNumber.text)
        #expect(ExactSum(stateText: "1e5") == nil)
    }

    @Test func exactMomentsMatchTheDefinitions() {
        var moments = ExactMoments(keepsSquares: true)
        for literal in ["2", "4", "4", "4", "5", "5", "7", "9"] { moments.add(DecimalTerm(JSONNumber(literal: literal))) }
        #expect(moments.mean == 5)
        #expect(moments.sampleVariance == 32.0 / 7.0)
        var tiny = ExactMoments(keepsSquares: true)
        for literal in ["0.1", "0.2", "0.3"] { tiny.add(DecimalTerm(JSONNumber(literal: literal))) }
        #expect(tiny.mean == 0.2)
        #expect(tiny.sampleVariance == 0.01)
        var one = ExactMoments(keepsSquares: true)
        one.add(DecimalTerm(JSONNumber(literal: "3")))
        #expect(one.sampleVariance == nil && one.mean == 3)
    }

    @Test func hyperLogLogIsWithinItsErrorAndMergesExactly() {
        for cardinality in [0, 1, 10, 1_000, 100_000] {
            var sketch = HyperLogLog()
            var left = HyperLogLog(), right = HyperLogLog()
            for value in 0..<cardinality {
                let hash = StableHash.hash(Array("user-\(value)".utf8))
                sketch.add(hash: hash)
                sketch.add(hash: hash)
                if value % 3 == 0 { left.add(hash: hash) } else { right.add(hash: hash) }
            }
            let error = abs(Double(sketch.estimate - cardinality)) / Double(max(cardinality, 1))
            #expect(error <= 4 * HyperLogLog.standardError, "\(cardinality): \(sketch.estimate)")
            left.merge(right)
            #expect(left == sketch)
            #expect(HyperLogLog(stateText: sketch.stateText) == sketch)
        }
        #expect(StableHash.hash(Array("a".utf8)) == StableHash.hash(Array("a".utf8)))
    }

    @Test func sketchQuantilesAreWithinOnePercentAndMergeExactly() {
        var values: [Double] = []
        var generator = SplitMix(seed: 1)
        for _ in 0..<20_000 { values.append((generator.unit() - 0.2) * pow(10, generator.unit() * 8)) }
        values += Array(repeating: 0, count: 100)
        var whole = RelativeErrorSketch()
        var parts = [RelativeErrorSketch(), RelativeErrorSketch(), RelativeErrorSketch()]
        for (index, value) in values.enumerated() {
            whole.add(value)
            parts[index % 3].add(value)
        }
        var merged = parts[2]
        merged.merge(parts[0])
        merged.merge(parts[1])
        #expect(merged == whole)
        #expect(RelativeErrorSketch(state: whole.state) == whole)
        let sorted = values.sorted()
        for text in ["0", "0.01", "0.25", "0.5", "0.9", "0.99", "1"] {
            let fraction = QuantileFraction(decimalText: text)!
            let exact = sorted[fraction.numerator * (sorted.count - 1) / fraction.denominator]
            let estimate = whole.quantile(fraction)!
            #expect(abs(estimate - exact) <= RelativeErrorSketch.relativeAccuracy * abs(exact) + 1e-300, "q \(text): \(estimate) vs \(exact)")
        }
    }

    @Test func exactQuantilesInterpolateLinearly() {
        let values: [Double] = [10, 20, 30, 40]
        func quantile(_ text: String) -> ExactQuantile.Result {
            ExactQuantile.quantile(QuantileFraction(decimalText: text)!, count: values.count) { values[$0] }
        }
        #expect(quantile("0.5") == .interpolated(25))
        #expect(quantile("0.9") == .interpolated(37))
        #expect(quantile("0") == .element(0))
        #expect(quantile("1") == .element(3))
        #expect(quantile("0.333333333") != .element(1))
        #expect(QuantileFraction(decimalText: "1.5") == nil && QuantileFraction(decimalText: "-0.1") == nil)
        #expect(QuantileFraction(decimalText: "0.5") == QuantileFraction(decimalText: "0.50"))
    }
}

/// A small deterministic generator for the tests.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return StableHash.mix(state)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

#if canImport(Glibc)
import Glibc
#endif
