#if canImport(Glibc)
import Glibc
#endif
import WeirCore
@testable import WeirExpression

/// One case of a jq `.test` file.
struct JQTestCase: Sendable {
    /// Where the case starts (for failure reports).
    var file: String
    var line: Int
    var program: String
    /// The input text (nil for `%%FAIL` cases).
    var input: String?
    /// Expected output lines (for `%%FAIL`: the error message lines).
    var expected: [String]
    /// A `%%FAIL` case: the program must not compile.
    var mustFail: Bool
}

/// Reads a whole file as UTF-8 (no Foundation).
func readTextFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads jq's `.test` format: program, input, expected outputs, blank line; `#` comments; `%%FAIL` blocks.
enum JQTestFile {
    static func parse(_ text: String, file: String) -> [JQTestCase] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var line = String(line)
            if line.hasSuffix("\r") { line.removeLast() }
            return line
        }
        var cases: [JQTestCase] = []
        var index = 0
        func isSkippable(_ line: String) -> Bool {
            line.trimmingSpaces.isEmpty || line.hasPrefix("#")
        }
        while index < lines.count {
            if isSkippable(lines[index]) {
                index += 1
                continue
            }
            let start = index
            var mustFail = false
            if lines[index].hasPrefix("%%FAIL") {
                mustFail = true
                index += 1
                guard index < lines.count else { break }
            }
            let program = lines[index]
            index += 1
            var input: String?
            if !mustFail, index < lines.count {
                var text = lines[index]
                if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
                input = text
                index += 1
            }
            var expected: [String] = []
            while index < lines.count, !lines[index].trimmingSpaces.isEmpty {
                if !lines[index].hasPrefix("#") || mustFail { expected.append(lines[index]) }
                index += 1
            }
            cases.append(JQTestCase(file: file, line: start + 1, program: program, input: input, expected: expected, mustFail: mustFail))
        }
        return cases
    }
}

/// The verdict on one case.
enum JQVerdict: Equatable {
    case correct
    /// Our compiler refused the program (a usage error naming the construct).
    case unsupported(String)
    /// A different answer than jq's.
    case wrong(String)
}

/// Runs a case against the evaluator.
enum JQCaseRunner {
    static func run(_ testCase: JQTestCase) -> JQVerdict {
        let program: Program
        do {
            program = try Program.compile(testCase.program)
        } catch {
            if testCase.mustFail { return .correct }
            return .unsupported(error.description)
        }
        if testCase.mustFail { return .wrong("compiled a program jq rejects: \(testCase.expected.first ?? "")") }
        guard let inputText = testCase.input else { return .wrong("no input") }
        let input: JSONValue
        do {
            input = try JSONParser.parse(inputText)
        } catch {
            return .unsupported("input is not valid JSON for Weir: \(inputText)")
        }
        var expected: [JSONValue] = []
        for line in testCase.expected {
            do {
                expected.append(try JSONParser.parse(line))
            } catch {
                return .unsupported("expected output is not valid JSON for Weir: \(line)")
            }
        }
        var outputs: [JSONValue] = []
        var failure: String?
        do {
            try program.evaluate(input, context: EvaluationContext()) { output in
                outputs.append(output)
                if outputs.count > expected.count + 5 { throw StopSignal() }
            }
        } catch is StopSignal {
        } catch {
            failure = "\(error)"
        }
        let matches = outputs.count <= expected.count && zip(outputs, expected).allSatisfy { sameValue($0, $1) }
        if matches && (outputs.count == expected.count || (failure != nil && outputs.count == expected.count)) {
            return .correct
        }
        let got = outputs.map { JSONWriter.string($0) }.joined(separator: " ")
        return .wrong("got [\(got)]\(failure.map { " then error: \($0)" } ?? ""), expected [\(testCase.expected.joined(separator: " "))]")
    }

    /// Equality for test results as printed: NaN is `null`, infinities are ±1.7976931348623157e+308.
    static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .null), (.null, .number(let x)):
            return x.double.isNaN
        case (.number(let x), .number(let y)):
            if x.double.isNaN && y.double.isNaN { return true }
            if x.double.isInfinite || y.double.isInfinite {
                let clamp = { (value: Double) in value.isInfinite ? (value < 0 ? -Double.greatestFiniteMagnitude : Double.greatestFiniteMagnitude) : value }
                return clamp(x.double) == clamp(y.double)
            }
            return x == y
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = y[key], sameValue(value, other) else { return false }
            }
            return true
        default:
            return a == b
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var view = self[...]
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return view
    }
}

/// The known deviations from jq (`Tests/jq/known-deviations.txt`): `FILE:LINE skip|wrong reason`
/// (the `fuzz …` lines are bin/jq-fuzz's).
struct KnownDeviations {
    /// Cases not run at all (they would crash or hang the test process).
    var skipped: [String: String] = [:]
    /// Cases whose wrong answers are known and explained.
    var wrong: [String: String] = [:]

    init(text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("fuzz ") && !line.trimmingSpaces().isEmpty {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count >= 2 else { continue }
            let reason = fields.count > 2 ? String(fields[2]) : ""
            if fields[1] == "skip" { skipped[String(fields[0])] = reason } else { wrong[String(fields[0])] = reason }
        }
    }

    /// The key of a case: its file's base name and line.
    static func key(_ testCase: JQTestCase) -> String {
        "\(testCase.file.split(separator: "/").last.map(String.init) ?? testCase.file):\(testCase.line)"
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring { String(self).trimmingSpaces }
}
