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
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(".test") { names.append(directory + "/" + name) }
        }
        return names.sorted()
    }
}
