import Foundation
import Testing
@testable import WeirCore

/// ``DecimalText`` parsing and rounding, and ``DecimalCounter`` against scaled-integer arithmetic.
@Suite struct DecimalCounterTests {
    private func values(_ first: String, _ step: String, _ last: String?, limit: Int = 1000) -> [String] {
        var counter = DecimalCounter(first: DecimalText(parsing: first)!, step: DecimalText(parsing: step)!, last: last.map { DecimalText(parsing: $0)! })
        var bytes: [UInt8] = []
        while bytes.count < limit * 64, counter.append(7, prefix: [], suffix: [], into: &bytes) > 0 {}
        return Array(String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).prefix(limit))
    }

    @Test func parsesPlainDecimalsAndExponents() {
        #expect(DecimalText(parsing: "42")?.text == "42")
        #expect(DecimalText(parsing: "-2.50")?.text == "-2.50")
        #expect(DecimalText(parsing: "+007")?.text == "7")
        #expect(DecimalText(parsing: ".5")?.text == "0.5")
        #expect(DecimalText(parsing: "5.")?.text == "5")
        #expect(DecimalText(parsing: "-0")?.text == "0")
        #expect(DecimalText(parsing: "-0.0")?.isNegative == false)
        #expect(DecimalText(parsing: "1e3")?.text == "1000")
        #expect(DecimalText(parsing: "1.5E-3")?.text == "0.0015")
        #expect(DecimalText(parsing: "25e-1")?.text == "2.5")
        for bad in ["", "-", ".", "abc", "1.2.3", "1e", "1e+", "0x10", "1 ", "inf", "nan", "1e1001", "--1"] {
            #expect(DecimalText(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func rescalingRoundsAsAsked() {
        func rescale(_ text: String, _ scale: Int, up: Bool) -> String { DecimalText(parsing: text)!.rescaled(to: scale, roundingUp: up).text }
        #expect(rescale("2.5", 3, up: false) == "2.500")
        #expect(rescale("3.7", 0, up: false) == "3")
        #expect(rescale("3.7", 0, up: true) == "4")
        #expect(rescale("-3.7", 0, up: false) == "-4")
        #expect(rescale("-3.7", 0, up: true) == "-3")
        #expect(rescale("-0.01", 1, up: true) == "0.0")
        #expect(rescale("9.99", 1, up: true) == "10.0")
        #expect(rescale("3.00", 0, up: true) == "3")
    }

    @Test func countsLikeGNUSeq() {
        #expect(values("1", "1", "3") == ["1", "2", "3"])
        #expect(values("0.1", "0.1", "0.3") == ["0.1", "0.2", "0.3"])
        #expect(values("1", "0.5", "3") == ["1.0", "1.5", "2.0", "2.5", "3.0"])
        #expect(values("1", "-0.25", "0") == ["1.00", "0.75", "0.50", "0.25", "0.00"])
        #expect(values("-1", "0.5", "1") == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
        #expect(values("1", "1", "3.7") == ["1", "2", "3"])
        #expect(values("7", "-0.5", "5.2") == ["7.0", "6.5", "6.0", "5.5"])
        #expect(values("1.50", "1", "3") == ["1.50", "2.50"])
        #expect(values("5", "1", "1") == [])
        #expect(values("1", "-1", "5") == [])
        #expect(values("-2", "-1", "-2") == ["-2"])
        #expect(values("3", "-2", "-3") == ["3", "1", "-1", "-3"])
        #expect(values("-3", "2", "3") == ["-3", "-1", "1", "3"])
    }

    @Test func integersGrowPastInt64WithoutOverflow() {
        #expect(values("9223372036854775806", "1", "9223372036854775809") ==
            ["9223372036854775806", "9223372036854775807", "9223372036854775808", "9223372036854775809"])
        #expect(values("-9223372036854775809", "1", "-9223372036854775807") ==
            ["-9223372036854775809", "-9223372036854775808", "-9223372036854775807"])
        #expect(values("99999999999999999999999999999998", "1", "100000000000000000000000000000001") ==
            ["99999999999999999999999999999998", "99999999999999999999999999999999",
             "100000000000000000000000000000000", "100000000000000000000000000000001"])
        #expect(values("1", "99999999999999999999", "300000000000000000000") ==
            ["1", "100000000000000000000", "199999999999999999999", "299999999999999999998"])
    }

    @Test func foreverKeepsGoing() {
        var counter = DecimalCounter(first: DecimalText(parsing: "98")!, step: DecimalText(parsing: "1")!, last: nil)
        var bytes: [UInt8] = []
        #expect(counter.append(4, prefix: Array("{\"n\":".utf8), suffix: Array("}".utf8), into: &bytes) == 4)
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"n\":98}\n{\"n\":99}\n{\"n\":100}\n{\"n\":101}\n")
        #expect(!counter.isFinished)
    }

    /// Random first, step and last with up to three decimals, against scaled `Int` arithmetic.
    @Test func matchesScaledIntegerArithmetic() {
        var generator = SplitMix64(seed: 20261202)  // seeded: the same 300 cases every run
        func random(_ maxScale: Int) -> (text: String, value: Int, scale: Int) {
            let scale = Int.random(in: 0...maxScale, using: &generator)
            let units = Int.random(in: -3000...3000, using: &generator)
            let magnitude = String(abs(units))
            let padded = String(repeating: "0", count: max(0, scale + 1 - magnitude.count)) + magnitude
            let text = scale == 0 ? magnitude : padded.dropLast(scale) + "." + padded.suffix(scale)
            return ((units < 0 ? "-" : "") + text, units, scale)
        }
        func format(_ units: Int, scale: Int) -> String {
            let magnitude = String(abs(units))
            let padded = String(repeating: "0", count: max(0, scale + 1 - magnitude.count)) + magnitude
            let text = scale == 0 ? magnitude : padded.dropLast(scale) + "." + padded.suffix(scale)
            return (units < 0 ? "-" : "") + text
        }
        for _ in 0..<300 {
            let first = random(3), last = random(3)
            var step = random(2)
            if step.value == 0 { step = ("1", 1, 0) }
            let scale = max(first.scale, step.scale), common = 1000
            let firstUnits = first.value * (common / Int(pow(10.0, Double(first.scale))))
            let stepUnits = step.value * (common / Int(pow(10.0, Double(step.scale))))
            let lastUnits = last.value * (common / Int(pow(10.0, Double(last.scale))))
            var expected: [String] = []
            var units = firstUnits
            while stepUnits > 0 ? units <= lastUnits : units >= lastUnits, expected.count < 1000 {
                expected.append(format(units / (common / Int(pow(10.0, Double(scale)))), scale: scale))
                units += stepUnits
            }
            #expect(values(first.text, step.text, last.text) == expected, "\(first.text) by \(step.text) to \(last.text)")
        }
    }
}
