import Foundation
import Testing
@testable import WeirCore

/// ``OutputSet``: many files, all committed or none, with a bounded number open.
@Suite struct OutputSetTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-set-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func contents(_ directory: URL) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        return (enumerator?.allObjects as? [String] ?? []).sorted()
    }

    func write(_ set: OutputSet, _ text: String, to path: String) throws {
        try Array(text.utf8).withBytes { (bytes) throws(IOError) in try set.write(bytes, to: path) }
    }

    @Test func filesAppearOnlyAtCommitWithEverythingWritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let set = OutputSet(maxOpen: 4, bufferBytes: 16)
        for index in 0..<300 {
            try write(set, "{\"n\":\(index)}\n", to: directory.appendingPathComponent("k\(index % 25)/part.ndjson").path)
        }
        #expect(set.fileCount == 25)
        // Before commit: only temporary files, never a final name.
        #expect(try contents(directory).filter { $0.hasSuffix("part.ndjson") }.isEmpty)
        try set.commit()
        let names = try contents(directory)
        #expect(names.filter { $0.hasSuffix(".tmp") }.isEmpty)
        for key in 0..<25 {
            let text = try String(contentsOf: directory.appendingPathComponent("k\(key)/part.ndjson"), encoding: .utf8)
            let expected = stride(from: key, to: 300, by: 25).map { "{\"n\":\($0)}\n" }.joined()
            #expect(text == expected, "k\(key)")
        }
    }

    @Test func abandonLeavesNothingNotEvenTheDirectoriesItMade() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let set = OutputSet(maxOpen: 2)
        for index in 0..<10 {
            try write(set, "x\n", to: directory.appendingPathComponent("a/b\(index % 3)/f\(index).ndjson").path)
        }
        set.abandon()
        #expect(try contents(directory).isEmpty)
    }

    @Test func atMostMaxOpenDescriptorsAreOpen() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let set = OutputSet(maxOpen: 3, bufferBytes: 1)
        var peak = 0
        for index in 0..<200 {
            try write(set, "line \(index)\n", to: directory.appendingPathComponent("f\(index % 40)").path)
            peak = max(peak, set.openCount)
        }
        #expect(peak == 3)
        try set.commit()
        #expect(set.openCount == 0)
        let text = try String(contentsOf: directory.appendingPathComponent("f7"), encoding: .utf8)
        #expect(text == stride(from: 7, to: 200, by: 40).map { "line \($0)\n" }.joined())
    }

    @Test func aPathUnderARegularFileIsAnError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("x".utf8).write(to: directory.appendingPathComponent("file"))
        let set = OutputSet(maxOpen: 4)
        #expect(throws: IOError.self) { try write(set, "x\n", to: directory.appendingPathComponent("file/sub/out.ndjson").path) }
        set.abandon()
        #expect(try contents(directory) == ["file"])
    }
}

/// ``OutputSet``: the buffer budget, finished files, large writes, directory conflicts, and
/// the descriptor limit.
extension OutputSetTests {
    func directoryPath() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-outputset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    func listing(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
    }

    func fileText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(missing)"
    }

    @Test func manyFilesThroughFewDescriptorsCommitWithEveryByteInOrder() throws {
        let root = try directoryPath()
        let set = OutputSet(maxOpen: 3, bufferBytes: 64, bufferBudget: 256)
        var expected: [String: String] = [:]
        for round in 0..<50 {
            for key in 0..<20 {
                let path = "\(root)/out/k\(key % 4)/\(key).txt"
                let line = "r\(round) k\(key)\n"
                try set.write(Array(line.utf8), to: path)
                expected[path, default: ""] += line
                #expect(set.openCount <= 3)
                #expect(set.bufferedByteCount <= 256)
            }
        }
        #expect(set.fileCount == 20)
        // Nothing is under its final name before the commit.
        #expect(listing(root).allSatisfy { !$0.hasSuffix(".txt") || $0.contains(".weir-") })
        try set.commit()
        for (path, text) in expected { #expect(fileText(path) == text) }
        #expect(listing(root).allSatisfy { !$0.contains(".weir-") }, "\(listing(root))")
    }

    @Test func abandonRemovesTemporariesAndTheDirectoriesItMade() throws {
        let root = try directoryPath()
        try FileManager.default.createDirectory(atPath: "\(root)/existing", withIntermediateDirectories: true)
        let set = OutputSet(maxOpen: 2)
        for key in 0..<5 { try set.write(Array("x\n".utf8), to: "\(root)/existing/new/\(key)/f.txt") }
        try set.write(Array("y\n".utf8), to: "\(root)/existing/g.txt")
        #expect(!listing(root).isEmpty)
        set.abandon()
        #expect(listing(root) == ["existing"])
    }

    @Test func finishedFilesAreClosedAndStillCommitted() throws {
        let root = try directoryPath()
        let set = OutputSet(maxOpen: 4)
        try set.write(Array("a\n".utf8), to: "\(root)/a-0001")
        try set.finishFile("\(root)/a-0001")
        #expect(set.openCount == 0)
        #expect(throws: IOError.self) { try set.write(Array("b\n".utf8), to: "\(root)/a-0001") }
        try set.write(Array("b\n".utf8), to: "\(root)/a-0002")
        try set.commit()
        #expect(fileText("\(root)/a-0001") == "a\n")
        #expect(fileText("\(root)/a-0002") == "b\n")
    }

    @Test func largeWritesBypassTheBufferAndKeepOrder() throws {
        let root = try directoryPath()
        let set = OutputSet(maxOpen: 1, bufferBytes: 16, bufferBudget: 16)
        let big = String(repeating: "z", count: 100)
        try set.write(Array("small\n".utf8), to: "\(root)/a")
        try set.write(Array("other\n".utf8), to: "\(root)/b")
        try set.write(Array((big + "\n").utf8), to: "\(root)/a")
        try set.write(Array("tail\n".utf8), to: "\(root)/a")
        try set.commit()
        #expect(fileText("\(root)/a") == "small\n\(big)\ntail\n")
        #expect(fileText("\(root)/b") == "other\n")
    }

    @Test func aFileWhereAnotherPathMadeADirectoryCommitsNothing() throws {
        let root = try directoryPath()
        let set = OutputSet(maxOpen: 4)
        try set.write(Array("first\n".utf8), to: "\(root)/out/0")
        try set.write(Array("file\n".utf8), to: "\(root)/out/a")
        try set.write(Array("nested\n".utf8), to: "\(root)/out/a/b")
        #expect(throws: IOError.self) { try set.commit() }
        #expect(listing(root) == [])
    }

    @Test func theOpenFileLimitIsRaisedToTheHardLimit() {
        var before = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &before)
        let limit = SystemIO.raiseOpenFileLimit()
        var after = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &after)
        #expect(limit >= Int(clamping: before.rlim_cur))
        #expect(after.rlim_cur == after.rlim_max || after.rlim_cur == before.rlim_cur)
        #expect(limit == (after.rlim_cur == rlim_t.max ? Int(Int32.max) : Int(clamping: after.rlim_cur)))
    }
}

@Suite struct SafePathTests {
    @Test func baseDirectoryIsThePrefixThroughItsLastSlash() {
        #expect(SafePath.baseDirectory(ofPrefix: "out/") == "out/")
        #expect(SafePath.baseDirectory(ofPrefix: "out/x-") == "out/")
        #expect(SafePath.baseDirectory(ofPrefix: "out/a/b") == "out/a/")
        #expect(SafePath.baseDirectory(ofPrefix: "x-") == "")
        #expect(SafePath.baseDirectory(ofPrefix: "") == "")
        #expect(SafePath.baseDirectory(ofPrefix: "/tmp/out/") == "/tmp/out/")
        #expect(SafePath.baseDirectory(ofPrefix: "../shared/") == "../shared/")
    }

    @Test func pathsInsideTheDirectoryPass() {
        #expect(SafePath.violation("out/a.ndjson", inside: "out/") == nil)
        #expect(SafePath.violation("out/a/b/c.ndjson", inside: "out/") == nil)
        #expect(SafePath.violation("out/.hidden", inside: "out/") == nil)
        #expect(SafePath.violation("out/..a", inside: "out/") == nil)
        #expect(SafePath.violation("a.ndjson", inside: "") == nil)
        #expect(SafePath.violation("../shared/x", inside: "../shared/") == nil)
        #expect(SafePath.violation("/tmp/out/x", inside: "/tmp/out/") == nil)
    }

    @Test func pathsThatClimbOutAreRefused() {
        #expect(SafePath.violation("out/../x", inside: "out/")?.contains("'..'") == true)
        #expect(SafePath.violation("out/a/../../x", inside: "out/")?.contains("'..'") == true)
        #expect(SafePath.violation("../x", inside: "")?.contains("'..'") == true)
        #expect(SafePath.violation("out/./x", inside: "out/")?.contains("'.'") == true)
        #expect(SafePath.violation("/etc/passwd", inside: "")?.contains("absolute") == true)
        #expect(SafePath.violation("out//etc/passwd", inside: "out/")?.contains("empty") == true)
        #expect(SafePath.violation("out/a//b", inside: "out/")?.contains("empty") == true)
        #expect(SafePath.violation("out/a/", inside: "out/")?.contains("ends in '/'") == true)
        #expect(SafePath.violation("out/", inside: "out/")?.contains("directory itself") == true)
        #expect(SafePath.violation("out/a\u{0}b", inside: "out/")?.contains("NUL") == true)
        #expect(SafePath.violation("elsewhere/a", inside: "out/") != nil)
        #expect(SafePath.violation("out/" + String(repeating: "x", count: SafePath.maxComponentBytes + 1), inside: "out/") != nil)
        #expect(SafePath.violation("out/" + String(repeating: "x", count: SafePath.maxComponentBytes), inside: "out/") == nil)
        #expect(SafePath.violation(String(repeating: "a/", count: 2100) + "x", inside: "") != nil)
    }

    @Test func rolledNamesPutThePartBeforeTheExtension() {
        #expect(SafePath.rolledPath("out/a.ndjson", part: 1) == "out/a-0001.ndjson")
        #expect(SafePath.rolledPath("out/a.ndjson", part: 12) == "out/a-0012.ndjson")
        #expect(SafePath.rolledPath("out/a.ndjson", part: 12345) == "out/a-12345.ndjson")
        #expect(SafePath.rolledPath("out/a", part: 2) == "out/a-0002")
        #expect(SafePath.rolledPath("out.d/a", part: 2) == "out.d/a-0002")
        #expect(SafePath.rolledPath("out/.hidden", part: 3) == "out/.hidden-0003")
        #expect(SafePath.rolledPath("out/a.tar.gz", part: 1) == "out/a.tar-0001.gz")
        #expect(SafePath.rolledPath("a.csv", part: 1) == "a-0001.csv")
    }

    @Test func rolledNamesOfDistinctPathsNeverCollide() {
        let paths = ["a", "a.x", "a-0001", "a-0001.x", "a.x.y", ".a", ".a-0001", "a-1", "a-", "b/a", "a.-0001"]
        var seen: [String: String] = [:]
        for path in paths {
            for part in [1, 2, 9999, 10000, 10001] {
                let rolled = SafePath.rolledPath(path, part: part)
                let owner = "\(path)#\(part)"
                #expect(seen[rolled] == nil, "\(owner) and \(seen[rolled] ?? "") both give \(rolled)")
                seen[rolled] = owner
            }
        }
    }
}

@Suite struct SinkCommitTests {
    /// What the writer asked of a sink, in order.
    final class CallLog: @unchecked Sendable {
        var calls: [String] = []
    }

    struct LoggingSink: OutputSink {
        let log: CallLog
        mutating func begin(_ target: OutputTarget) throws(IOError) { log.calls.append("begin") }
        mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {}
        mutating func finish(_ target: OutputTarget) throws(IOError) { log.calls.append("finish") }
        mutating func commit() throws(IOError) { log.calls.append("commit") }
        mutating func abandon() { log.calls.append("abandon") }
    }

    struct Keep: RecordTransform {
        func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
            output.append(contentsOf: record)
            output.append(0x0A)
            return 1
        }
    }

    func run(paths: [String], policy: RuntimeConfiguration.ErrorPolicy) async throws -> (status: Int32, calls: [String]) {
        var configuration = RuntimeConfiguration()
        configuration.inputPaths = paths
        configuration.errorPolicy = policy
        configuration.jobs = 2
        let log = CallLog()
        let runtime = StageRuntime(configuration: configuration, executableName: "weir-test")
        let source = FileSequenceSource(paths: paths, framer: LineFramer(), maxRecordBytes: 1 << 20)
        let outcome = await runtime.run(source: source, sink: LoggingSink(log: log)) { RecordChunkTransform(Keep()) }
        return (outcome.status, log.calls)
    }

    func goodFile() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("weir-sink-\(UUID().uuidString)")
        try Data("{\"a\":1}\n".utf8).write(to: url)
        return url.path
    }

    @Test func aSuccessfulRunCommitsTheSink() async throws {
        let result = try await run(paths: [goodFile()], policy: .fail)
        #expect(result.status == 0)
        #expect(result.calls == ["begin", "finish", "commit"])
    }

    @Test func anUnreadableInputUnderErrorsFailAbandonsTheSinkAfterFinish() async throws {
        let result = try await run(paths: [goodFile(), "/nonexistent/weir-input"], policy: .fail)
        #expect(result.status == 1)
        #expect(result.calls == ["begin", "finish", "abandon"])
    }

    @Test func anUnreadableInputUnderErrorsSkipStillCommits() async throws {
        let result = try await run(paths: [goodFile(), "/nonexistent/weir-input"], policy: .skip)
        #expect(result.status == 1)
        #expect(result.calls == ["begin", "finish", "commit"])
    }
}
