import Foundation
import Testing
@testable import WeirCore

/// The temporary names written beside an output, and the display name of an input.
@Suite struct TemporaryNameTests {
    let pid = getpid()

    @Test func temporaryNamesBesideAPath() {
        #expect(SystemIO.temporaryName(beside: "out.csv") == ".out.csv.weir-\(pid).tmp")
        #expect(SystemIO.temporaryName(beside: "dir/sub/out.csv") == "dir/sub/.out.csv.weir-\(pid).tmp")
        #expect(SystemIO.temporaryName(beside: "/abs/out", attempt: 3) == "/abs/.out.weir-\(pid)-3.tmp")
        #expect(SystemIO.temporaryName(beside: "dir/out.csv", kind: "rows") == "dir/.out.csv.weir-rows-\(pid).tmp")
        #expect(CSVTableSink.spillPath(forOutput: "a/b.csv") == "a/.b.csv.weir-rows-\(pid).tmp")
    }

    @Test func createTemporaryUsesTheNameAndRetries() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weir-tmpname-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/out.ndjson"
        let first = try SystemIO.createTemporary(beside: target, name: "out.ndjson")
        let second = try SystemIO.createTemporary(beside: target, name: "out.ndjson")
        close(first.descriptor)
        close(second.descriptor)
        #expect(first.path == SystemIO.temporaryName(beside: target))
        #expect(second.path == SystemIO.temporaryName(beside: target, attempt: 1))
    }

    @Test func inputDisplayNames() {
        #expect(InputName.display("-") == "<stdin>")
        #expect(InputName.display("a.ndjson") == "a.ndjson")
        #expect(InputName.display("<stdin>") == "<stdin>")
    }
}
