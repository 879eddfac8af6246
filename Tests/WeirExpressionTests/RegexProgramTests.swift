import Testing
@testable import WeirExpression

/// The backtracking engine on its own: offsets in scalars, groups, and the step limit.
@Suite struct RegexProgramTests {
    private func firstMatch(_ pattern: String, _ text: String, caseless: Bool = false) throws -> RegexProgram.Match? {
        let program = try RegexProgram(pattern: pattern, caseless: caseless, extended: false, dotAll: false)
        return try program.firstMatch(in: Array(text.unicodeScalars), from: 0)
    }

    @Test func offsetsAreCodePoints() throws {
        let match = try #require(try firstMatch("(?<v>[aeiou])b", "ééab"))
        #expect(match.range == 2..<4)
        #expect(match.groups == [2..<3])
    }

    @Test func unmatchedGroupIsNil() throws {
        let match = try #require(try firstMatch("(a)?b", "b"))
        #expect(match.groups == [nil])
    }

    @Test func lazyAndGreedy() throws {
        #expect(try firstMatch("a+?", "aaa")?.range == 0..<1)
        #expect(try firstMatch("a+", "aaa")?.range == 0..<3)
        #expect(try firstMatch("(a*)*b", "aab")?.range == 0..<3)
    }

    @Test func unboundedLookBehind() throws {
        #expect(try firstMatch("(?<=a+)b", "xaab")?.range == 3..<4)
        #expect(try firstMatch("(?<!a+)b", "xaab") == nil)
    }

    @Test func caselessMatching() throws {
        #expect(try firstMatch("ÉT[a-c]", "xétB", caseless: true)?.range == 1..<4)
    }

    @Test func exponentialBacktrackingHitsTheStepLimit() throws {
        let program = try RegexProgram(pattern: "^(a+)+$", caseless: false, extended: false, dotAll: false)
        let text = Array((String(repeating: "a", count: 40) + "!").unicodeScalars)
        #expect(throws: RegexStepLimitExceeded.self) { try program.firstMatch(in: text, from: 0) }
    }

    @Test func longLinearScanStaysUnderTheLimit() throws {
        let program = try RegexProgram(pattern: ".*x", caseless: false, extended: false, dotAll: false)
        let text = Array((String(repeating: "b", count: 200_000) + "x").unicodeScalars)
        #expect(try program.firstMatch(in: text, from: 0)?.range == 0..<200_001)
    }

    @Test func badPatternsAreSyntaxErrors() {
        for pattern in ["(", "[a", "a{3,2}", "*", "\\p{Nope}", "(?<x>a)\\k<y>"] {
            #expect(throws: RegexSyntaxError.self) { try RegexProgram(pattern: pattern, caseless: false, extended: false, dotAll: false) }
        }
    }
}
