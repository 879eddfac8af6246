import Testing
import WeirCore
@testable import WeirExpression
import WeirTestSupport

/// Runs jq's own test files and sorts every case into correct, unsupported (our compile error)
/// or wrong; a wrong answer must be listed, with its reason, in `Tests/jq/known-deviations.txt`.
@Suite struct JQConformanceTests {
    @Test(.needsTestData("jq")) func jqsOwnTestsHaveNoUnexplainedWrongAnswers() throws {
        let deviations = KnownDeviations(text: readTextFile(TestPaths.caseDirectory + "/known-deviations.txt") ?? "")
        let files = TestPaths.testFiles(in: TestPaths.jqTestDirectory)
        #expect(!files.isEmpty, "jq's test files not found in \(TestPaths.jqTestDirectory)")
        var summary: [String] = []
        for file in files {
            var correct = 0, unsupported = 0, wrong = 0, skipped = 0, knownWrong = 0
            for testCase in JQTestFile.parse(readTextFile(file) ?? "", file: file) {
                let key = KnownDeviations.key(testCase)
                if deviations.skipped[key] != nil {
                    skipped += 1
                    continue
                }
                switch JQCaseRunner.run(testCase) {
                case .correct:
                    correct += 1
                    if deviations.wrong[key] != nil { Issue.record("\(key) passes now: remove it from known-deviations.txt") }
                case .unsupported: unsupported += 1
                case .wrong(let why):
                    wrong += 1
                    if deviations.wrong[key] != nil {
                        knownWrong += 1
                    } else {
                        Issue.record("\(key): \(testCase.program)\n  \(why)",
                                     sourceLocation: SourceLocation(fileID: "jq/\(file.split(separator: "/").last!)", filePath: file, line: testCase.line, column: 1))
                    }
                }
            }
            let name = file.split(separator: "/").last.map(String.init) ?? file
            summary.append("\(name): \(correct) correct, \(unsupported) unsupported, \(wrong) wrong (\(knownWrong) known), \(skipped) skipped")
            if name == "jq.test" { #expect(correct >= 344) }
        }
        print("jq conformance:\n  " + summary.joined(separator: "\n  "))
    }
}
