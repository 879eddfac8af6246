#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The public conformance suites (JSONTestSuite, csv-spectrum, TiddlyWiki's CSV cases, jq's
/// tests). They are not part of the repository: they are looked for in `$WEIR_TESTDATA`, then
/// in `../shared/testdata` beside the checkout. A suite that is absent makes the tests that
/// need it skipped, by name and with the reason, never passed:
///
/// ```swift
/// @Suite(.enabled(if: TestData.has("JSONTestSuite"), TestData.missing("JSONTestSuite")))
/// struct JSONConformanceTests { … TestData.path("JSONTestSuite/test_parsing") … }
/// ```
/// `.ci/run` sets `WEIR_TESTDATA` and fails when a suite is missing there, so CI runs them all.
package enum TestData {
    /// The repository root, from this file's path (`Tests/WeirTestSupport/TestData.swift`).
    package static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    /// The folder the suites are in: `$WEIR_TESTDATA` when set and not empty, else `../shared/testdata`.
    package static let directory: String = {
        if let value = getenv("WEIR_TESTDATA"), value.pointee != 0 {
            var text = String(cString: value)
            while text.count > 1, text.hasSuffix("/") { text.removeLast() }
            return text
        }
        var components = repositoryRoot.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()
        return components.joined(separator: "/") + "/shared/testdata"
    }()

    /// The path of `relative` (a suite, or a file in one) in the test data folder.
    package static func path(_ relative: String) -> String {
        relative.isEmpty ? directory : directory + "/" + relative
    }

    /// True when the suite folder `suite` exists and is not empty.
    package static func has(_ suite: String) -> Bool {
        !(entries(in: path(suite)) ?? []).isEmpty
    }

    /// The names in a directory (without `.` and `..`), sorted; nil when it cannot be read.
    package static func entries(in directory: String) -> [String]? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The reason printed for a test skipped because `suite` is absent.
    package static func missing(_ suite: String) -> String {
        "the \(suite) suite is not at \(path(suite)) (set WEIR_TESTDATA to the folder that holds it)"
    }
}

#if canImport(Testing)
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test or suite only when the conformance suite `suite` is present (see ``TestData``);
    /// otherwise it is reported as skipped, with where it was looked for.
    package static func needsTestData(_ suite: String) -> Self {
        .enabled(if: TestData.has(suite), Comment(rawValue: TestData.missing(suite)))
    }
}
#endif
