import Testing
import WeirCore
@testable import WeirExpression

/// Runs every case of `Tests/jq/*.test` (Weir's language cases, checked against jq by `bin/jq-conformance`).
@Suite struct JQCaseTests {
    @Test func everyCaseGivesJqsAnswer() throws {
        let files = TestPaths.testFiles(in: TestPaths.caseDirectory)
        #expect(!files.isEmpty, "no .test files in \(TestPaths.caseDirectory)")
        var total = 0
        for file in files {
            let cases = JQTestFile.parse(readTextFile(file) ?? "", file: file)
            for testCase in cases {
                total += 1
                switch JQCaseRunner.run(testCase) {
                case .correct: break
                case .unsupported(let why), .wrong(let why):
                    Issue.record("\(file):\(testCase.line): \(testCase.program)\n  \(why)",
                                 sourceLocation: SourceLocation(fileID: "WeirExpressionTests/\(file.split(separator: "/").last!)", filePath: file, line: testCase.line, column: 1))
                }
            }
        }
        print("Weir language cases: \(total) in \(files.count) files")
        #expect(total >= 300)
    }
}
