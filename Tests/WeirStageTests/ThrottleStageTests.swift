import Foundation
import Testing

/// weir-throttle through real pipes: the observed rate, per-key rates, prompt stops,
/// backpressure and accounting. Timing bounds are deliberately loose.
@Suite struct ThrottleStageTests {
    /// A consumer for a pipeline's end: reads lines for about `seconds` seconds, printing each
    /// one's arrival time (bash's $EPOCHREALTIME) and the line, then leaves.
    static func timestampingConsumer(seconds: Int) -> String {
        #"{ start=${EPOCHREALTIME/./}; while IFS= read -r line; do now=${EPOCHREALTIME/./}; echo "$now $line"; (( now - start >= \#(seconds)000000 )) && break; done; }"#
    }

    /// (seconds, line) pairs from a timestamping consumer's output.
    func arrivals(_ result: StageHarness.Result) -> [(time: Double, line: String)] {
        result.lines.compactMap { entry in
            guard let space = entry.firstIndex(of: " "), let micros = Double(entry[..<space]) else { return nil }
            return (micros / 1e6, String(entry[entry.index(after: space)...]))
        }
    }

    /// Records per second between the first and the last arrival.
    func observedRate(_ times: [Double]) -> Double {
        guard times.count > 1, let first = times.first, let last = times.last, last > first else { return 0 }
        return Double(times.count - 1) / (last - first)
    }

    @Test("--rate 20/s is observed over about 3 seconds (between 10/s and 30/s)")
    func observedRateIsTheRate() throws {
        let result = try StageHarness.shell(
            "timeout 60 bash -c \"yes '{\\\"a\\\": 1}' 2>/dev/null | weir-throttle --rate 20/s\" | \(Self.timestampingConsumer(seconds: 3))")
        let seen = arrivals(result)
        #expect(seen.count > 20, "\(result.stderr)")
        #expect(seen.allSatisfy { $0.line == "{\"a\":1}" })
        let rate = observedRate(seen.map(\.time))
        #expect(rate >= 10 && rate <= 30, "observed \(rate)/s over \(seen.count) records")
    }

    @Test("--by gives each key its own rate")
    func perKeyRates() throws {
        let input = String(repeating: "{\"k\":\"a\"}\n{\"k\": \"b\"}\n", count: 1000)
        let result = try StageHarness.shell("timeout 60 weir-throttle --rate 10/s --by .k | \(Self.timestampingConsumer(seconds: 3))", input: input)
        let seen = arrivals(result)
        let a = seen.filter { $0.line == "{\"k\":\"a\"}" }.map(\.time)
        let b = seen.filter { $0.line == "{\"k\":\"b\"}" }.map(\.time)
        #expect(a.count + b.count == seen.count && seen.count > 10, "\(result.stderr) \(seen.count)")
        for (key, times) in [("a", a), ("b", b)] {
            let rate = observedRate(times)
            #expect(rate >= 5 && rate <= 15, "key \(key): \(rate)/s")
        }
        // One shared bucket would give 10/s in all; two give about 20/s.
        let total = observedRate(seen.map(\.time))
        #expect(total >= 13 && total <= 30, "all keys: \(total)/s")
    }

    @Test("| head -1 returns promptly, even at one record a minute")
    func headStopsItPromptly() throws {
        let start = Date()
        let result = try StageHarness.shell("timeout 60 bash -c \"yes '{\\\"a\\\":1}' 2>/dev/null | weir-throttle --rate 1/m | head -1\"")
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.lines == ["{\"a\":1}"])
        #expect(elapsed < 20, "took \(elapsed) s")
    }

    @Test("SIGTERM ends a waiting throttle at once, with the signal's status")
    func termStopsTheWait() throws {
        let result = try StageHarness.shell(
            #"yes '{"a":1}' 2>/dev/null | weir-throttle --rate 1/m > /dev/null & pid=$!; sleep 1; start=${EPOCHREALTIME/./}; kill -TERM $pid; wait $pid; status=$?; echo "$status $(( ${EPOCHREALTIME/./} - start ))""#)
        let fields = result.text.split(whereSeparator: \.isWhitespace)
        #expect(fields.first == "143", "\(result.text) \(result.stderr)")
        // The runtime's last resort ends a stuck run after 2 s: a prompt stop is well under it.
        let micros = fields.count > 1 ? Int(fields[1]) ?? .max : .max
        #expect(micros < 1_800_000, "took \(micros) µs")
    }

    @Test("a waiting throttle stops its producer instead of buffering its output")
    func backpressure() throws {
        let directory = try StageHarness.temporaryDirectory()
        let producer = #"""
            python3 -c '
            import sys
            block, written = b"{\"a\":1}\n" * 4096, 0
            try:
                while True:
                    sys.stdout.buffer.write(block)
                    written += len(block)
            except BrokenPipeError:
                pass
            finally:
                open("written", "w").write(str(written))
            ' 2>/dev/null
            """#
        let result = try StageHarness.shell(
            "cd \(directory.path) && \(producer) | weir-throttle --rate 10/s | head -n 20 | wc -l; cat written")
        let fields = result.text.split(whereSeparator: \.isWhitespace)
        #expect(fields.first == "20", "\(result.text) \(result.stderr)")
        // About two seconds of a producer that would write gigabytes if nothing held it back.
        let written = fields.count > 1 ? Int(fields[1]) ?? .max : .max
        #expect(written < 64 << 20, "the producer wrote \(written) bytes")
    }

    @Test("with --reject every record is accounted for, and bytes_written is what was written")
    func statsReconcile() throws {
        let input = PipelineTests.records(count: 5_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        for by in ["", "--by .stock", "--by '.stock + (if .id % 10 == 0 then \"x\" else 0 end)'"] {
            let result = try StageHarness.shell("weir-throttle --rate 1000000/s --burst 1000000 \(by) --reject \(rejects) --stats", input: input)
            #expect(result.status == 0, "\(by): \(result.stderr)")
            let counts = StageHarness.stats(result.stderr)
            let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
            #expect(counts["read"] == 5_000)
            #expect(rejectLines.count == counts["rejected"])
            #expect(counts["dropped"] == 0)
            #expect(counts["written", default: -1] + counts["rejected", default: -1] == counts["read"], "\(by): \(counts)")
            #expect(result.lines.count == counts["written"])
            #expect(result.stdout.count == counts["bytes_written"], "\(by): \(counts)")
        }
    }
}
