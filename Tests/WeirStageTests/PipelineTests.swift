import Foundation
import Testing

/// The runtime's promises, checked through real pipes with the built executables.
@Suite struct PipelineTests {
    /// Deterministic records, some of them bad, for reconciliation tests.
    static func records(count: Int, badEvery: Int = 0) -> String {
        var lines: [String] = []
        for index in 1...count {
            if badEvery > 0, index % badEvery == 0 {
                lines.append("{\"id\":\(index),\"stock\":oops}")
            } else {
                lines.append("{\"id\":\(index),\"stock\":\(index % 23),\"price\":\(index % 7).10,\"name\":\"caf\\u00e9 \(index)\",\"tags\":[\"a\",\"b\"]}")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("| head -1 returns at once on endless input, quietly")
    func headStopsTheStage() throws {
        for stage in ["weir-cat", "weir-filter '.a == 1'", "weir-map '.a'", "weir-to-json"] {
            let result = try StageHarness.shell("timeout 60 bash -c \"yes '{\\\"a\\\":1}' 2>/dev/null | \(stage.replacingOccurrences(of: "\"", with: "\\\"")) | head -1\"")
            #expect(result.status == 0, "\(stage): status \(result.status) \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(stage): \(result.stderr)")
            #expect(result.lines.count == 1)
        }
    }

    @Test("a consumer that exits ends the stage at once, even while its input is slow")
    func goneConsumerEndsAStageWaitingForInput() throws {
        // The input sends one record and then stays open for 8 s; head exits after the
        // first line. Each stage must notice at once and exit 0, quietly.
        let script = """
            start=$(date +%s)
            (echo '{"a":1}'; sleep 8) | (weir-filter '.a == 1'; echo "filter $? $(( $(date +%s) - start ))" >&2) | head -1 >/dev/null
            """
        let result = try StageHarness.shell("timeout 60 bash -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
        let report = result.stderr.split(separator: "\n").first { $0.hasPrefix("filter ") }.map(String.init) ?? result.stderr
        let fields = report.split(separator: " ")
        #expect(fields.count == 3 && fields[1] == "0", "\(report)")
        #expect((Int(fields.last ?? "") ?? 99) < 5, "the stage waited for its input: \(report)")
    }

    @Test("output order never depends on -j")
    func orderIsStable() throws {
        let input = Self.records(count: 30_000)
        for stage in ["weir-cat", "weir-filter '.stock > 5'", "weir-map '{id, p: (.price * 2)}'"] {
            let one = try StageHarness.shell("\(stage) -j 1", input: input)
            let many = try StageHarness.shell("\(stage) -j 5", input: input)
            #expect(one.status == 0 && many.status == 0)
            #expect(one.stdout == many.stdout, "\(stage)")
            #expect(!one.stdout.isEmpty)
        }
    }

    @Test("with --reject every input line is accounted for")
    func countsReconcile() throws {
        let input = Self.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        for stage in ["weir-cat", "weir-filter '.stock > 5'", "weir-map '.id'"] {
            let result = try StageHarness.shell("\(stage) --reject \(rejects) --stats", input: input)
            #expect(result.status == 0, "\(stage): \(result.stderr)")
            let stats = StageHarness.stats(result.stderr)
            let read = stats["read"] ?? -1, written = stats["written"] ?? -1
            let dropped = stats["dropped"] ?? -1, rejected = stats["rejected"] ?? -1
            let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
            #expect(read == 20_000)
            #expect(rejected == 20_000 / 97)
            #expect(rejectLines.count == rejected)
            #expect(written + dropped + rejected == read, "\(stage): \(stats)")
            #expect(result.lines.count == written)
        }
    }

    @Test("a write error is reported, never silent")
    func writeErrorsAreReported() throws {
        let result = try StageHarness.shell("weir-cat > /dev/full", input: Self.records(count: 10))
        #expect(result.status == 1)
        #expect(result.stderr.contains("No space left on device"))
    }

    @Test("--errors fail flushes the good output before the bad record")
    func failFlushesEarlierOutput() throws {
        let input = Self.records(count: 5000, badEvery: 4000)
        let result = try StageHarness.shell("weir-cat", input: input)
        #expect(result.status == 1)
        #expect(result.lines.count == 3999)
        #expect(result.stderr.hasPrefix("weir-cat: <stdin>:4000:"))
    }

    @Test("several files are read in order, each with its own line numbers")
    func filesInOrder() throws {
        let directory = try StageHarness.temporaryDirectory()
        try "{\"f\":1}\n{\"f\":2}".write(to: directory.appendingPathComponent("a.ndjson"), atomically: true, encoding: .utf8)
        try "{\"f\":3}\n".write(to: directory.appendingPathComponent("b.ndjson"), atomically: true, encoding: .utf8)
        let result = try StageHarness.shell("cd \(directory.path) && weir-cat --source at a.ndjson b.ndjson")
        #expect(result.lines == [
            #"{"f":1,"at":{"file":"a.ndjson","line":1}}"#, #"{"f":2,"at":{"file":"a.ndjson","line":2}}"#,
            #"{"f":3,"at":{"file":"b.ndjson","line":1}}"#,
        ])
    }

    @Test("a large top-level array streams through weir-from-json and back")
    func largeArrayRoundTrip() throws {
        let input = Self.records(count: 50_000)
        let result = try StageHarness.shell("weir-to-json | weir-from-json | weir-cat", input: input)
        #expect(result.status == 0)
        #expect(result.text == input)
    }

    @Test("an interrupted run leaves no file behind, not even a temporary one")
    func interruptedOutputIsRemoved() throws {
        let directory = try StageHarness.temporaryDirectory()
        let script = """
            cd \(directory.path)
            yes '{"a":1}' 2>/dev/null | weir-cat -o out.ndjson &
            pid=$!
            sleep 1
            kill -TERM $pid
            wait $pid
            echo "status $?"
            ls -A
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines == ["status 143"])
    }

    @Test("a stalled consumer stalls the stage: memory stays bounded (backpressure)")
    func slowConsumerBoundsMemory() throws {
        let directory = try StageHarness.temporaryDirectory()
        // weir-cat reads an endless input while its reader (sleep) never reads: it must block
        // on its full output pipe after a bounded number of chunks, not buffer the input.
        let script = """
            cd \(directory.path)
            yes '{"sku":"A-1","stock":3,"tags":["a","b"],"price":1.10}' 2>/dev/null | (weir-cat & echo $! > pid; wait) | sleep 6 &
            sleep 3
            grep VmHWM /proc/$(cat pid)/status | tr -s ' ' | cut -d' ' -f2
            """
        let result = try StageHarness.shell(script)
        let peakKilobytes = Int(result.lines.first ?? "") ?? Int.max
        #expect(peakKilobytes < 100_000, "peak RSS \(peakKilobytes) kB")
    }
}
