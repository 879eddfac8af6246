#if canImport(Glibc)
import Glibc
#endif
import WeirTestSupport

/// Locations of the test data, relative to this source file.
enum TestPaths {
    /// The repository root (`…/main`).
    static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/WeirExpressionTests/TestPaths.swift
        return components.joined(separator: "/")
    }()

    /// Weir's own language cases, `Tests/jq/*.test`.
    static var caseDirectory: String { repositoryRoot + "/Tests/jq" }

    /// jq's own test files (the `jq` suite of ``TestData``: `$WEIR_TESTDATA/jq` or `../shared/testdata/jq`).
    static var jqTestDirectory: String { TestData.path("jq") }

    /// The `.test` files in a directory, sorted.
    static func testFiles(in directory: String) -> [String] {
        (TestData.entries(in: directory) ?? []).filter { $0.hasSuffix(".test") }.map { directory + "/" + $0 }
    }
}
