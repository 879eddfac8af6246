import Foundation
import Testing

/// `weir-head` through real pipes: it stops the whole pipeline as soon as it has its records.
@Suite struct HeadStageTests {
    @Test("seq --forever | map | head -n 5 ends promptly and every stage exits")
    func everyStageExits() throws {
        let directory = try StageHarness.temporaryDirectory()
        // Each stage in the background on FIFOs, so that each one's exit is seen by its own pid.
        let script = """
            cd \(directory.path)
            mkfifo numbers values
            weir-seq --forever > numbers & seq=$!
            weir-map .n < numbers > values & map=$!
            weir-head -n 5 < values > out.ndjson & head=$!
            wait $head; echo "head $?"
            wait $map; echo "map $?"
            wait $seq; echo "seq $?"
            ps -o pid= -p $seq,$map,$head | wc -l
            cat out.ndjson
            """
        let start = Date()
        let result = try StageHarness.shell("timeout -s KILL 60 bash -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["head 0", "map 0", "seq 0", "0", "1", "2", "3", "4", "5"])
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(elapsed < 30, "took \(elapsed) s")
    }

    @Test("a head after a slow producer returns as soon as it has its records")
    func slowProducerDoesNotHoldTheStage() throws {
        let directory = try StageHarness.temporaryDirectory()
        // The producer writes one record and then sleeps 30 s with the pipe open: the reader of
        // weir-head is blocked on it. The producer is killed once head has returned (with
        // SIGKILL: the test runner's children inherit a mask that blocks SIGTERM).
        let script = """
            cd \(directory.path)
            ( echo $BASHPID > producer.pid; echo '{"a":1}'; exec sleep 30 ) | { timeout -s KILL 25 weir-head -n 1; echo "status $?"; kill -KILL $(cat producer.pid); }
            """
        let start = Date()
        let result = try StageHarness.shell(script)
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.lines == [#"{"a":1}"#, "status 0"], "\(result.stderr)")
        #expect(elapsed < 15, "took \(elapsed) s")
    }

    @Test("-n 0 exits at once without reading")
    func zeroReadsNothing() throws {
        let start = Date()
        let directory = try StageHarness.temporaryDirectory()
        let script = """
            cd \(directory.path)
            ( echo $BASHPID > producer.pid; exec sleep 30 ) | { timeout -s KILL 25 weir-head -n 0; echo "status $?"; kill -KILL $(cat producer.pid); }
            """
        let result = try StageHarness.shell(script)
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.lines == ["status 0"], "\(result.stderr)")
        #expect(elapsed < 15, "took \(elapsed) s")
    }

    @Test("--by keeps the first N of each key, in input order, reading everything")
    func firstPerKey() throws {
        let input = (1...30_000).map { #"{"id":\#($0),"k":\#($0 % 7)}"# }.joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("weir-head -n 3 --by .k --stats", input: input)
        #expect(result.status == 0)
        #expect(result.lines == (1...21).map { #"{"id":\#($0),"k":\#($0 % 7)}"# })
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 30_000 && stats["written"] == 21 && stats["dropped"] == 30_000 - 21)
    }

    @Test("with --reject every input line is accounted for", arguments: ["weir-head -n 15000", "weir-head -n 2 --by .stock"])
    func countsReconcile(command: String) throws {
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        let result = try StageHarness.shell("\(command) --reject \(rejects) --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let stats = StageHarness.stats(result.stderr)
        let read = stats["read"] ?? -1, written = stats["written"] ?? -1, dropped = stats["dropped"] ?? -1, rejected = stats["rejected"] ?? -1
        #expect(written + dropped + rejected == read, "\(stats)")
        #expect(result.lines.count == written)
        let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejectLines.count == rejected)
        if command.contains("--by") {
            #expect(read == 20_000 && rejected == 20_000 / 97 && written == 23 * 2)
        } else {
            #expect(written == 15_000)
            // Bad records before the 15000th good one are rejected; the ones after it are never looked at.
            #expect(rejected >= 15_000 / 97)
        }
    }
}
