import Foundation
import Testing

/// `weir-tail` through real pipes, on inputs far longer than N.
@Suite struct TailStageTests {
    @Test("the last N of 100k records")
    func lastOfManyRecords() throws {
        let result = try StageHarness.shell("weir-seq 100000 --template '{id: .n}' | weir-tail -n 5 --stats")
        #expect(result.status == 0)
        #expect(result.lines == (99_996...100_000).map { #"{"id":\#($0)}"# })
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 100_000 && stats["written"] == 5 && stats["dropped"] == 99_995)
        #expect(stats["bytes_written"] == result.stdout.count)
    }

    @Test("the last N of each key, in input order, on 100k records")
    func lastPerKey() throws {
        let result = try StageHarness.shell("weir-seq 100000 --template '{id: .n, k: (.n % 7)}' | weir-tail -n 2 --by .k")
        #expect(result.status == 0)
        #expect(result.lines == (99_987...100_000).map { #"{"id":\#($0),"k":\#($0 % 7)}"# })
    }

    @Test("N larger than the input gives the whole input")
    func largeN() throws {
        let result = try StageHarness.shell("weir-seq 1000 | weir-tail -n 1000000000000 | weir-map .n | cmp - <(seq 1000) && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("with --reject every input line is accounted for", arguments: ["weir-tail -n 100", "weir-tail -n 3 --by .stock"])
    func countsReconcile(command: String) throws {
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        let result = try StageHarness.shell("\(command) --reject \(rejects) --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let stats = StageHarness.stats(result.stderr)
        let read = stats["read"] ?? -1, written = stats["written"] ?? -1, dropped = stats["dropped"] ?? -1, rejected = stats["rejected"] ?? -1
        #expect(read == 20_000)
        #expect(rejected == 20_000 / 97)
        #expect(written + dropped + rejected == read, "\(stats)")
        #expect(result.lines.count == written)
        #expect(written == (command.contains("--by") ? 23 * 3 : 100))
        let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejectLines.count == rejected)
    }
}
