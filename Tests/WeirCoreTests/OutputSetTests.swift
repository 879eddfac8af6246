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
