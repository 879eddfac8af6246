import Foundation
import Testing

/// `weir-seq` through real pipes: exact numbers, templates, and a generator that stops with its consumer.
@Suite struct SeqStageTests {
    @Test("decimal steps are exact, as many as GNU seq gives")
    func decimalSteps() throws {
        let tenths = try StageHarness.shell("weir-seq 0 1 --step 0.1 | weir-map .n")
        #expect(tenths.lines == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
        let small = try StageHarness.shell("weir-seq 0.1 0.3 --step 0.1 | weir-map .n")
        #expect(small.lines == ["0.1", "0.2", "0.3"])
        // 1000 steps of 0.001 land exactly on 1 (a float accumulator drifts off it).
        let thousandths = try StageHarness.shell("weir-seq 0 1 --step 0.001 | weir-map .n")
        #expect(thousandths.lines.count == 1001)
        #expect(thousandths.lines.last == "1.000")
        #expect(thousandths.lines[333] == "0.333")
    }

    @Test("integers count past 2^63 and 2^64 exactly")
    func largeIntegers() throws {
        let result = try StageHarness.shell("weir-seq 18446744073709551614 18446744073709551617 | weir-map .n")
        #expect(result.status == 0)
        #expect(result.lines == ["18446744073709551614", "18446744073709551615", "18446744073709551616", "18446744073709551617"])
        let down = try StageHarness.shell("weir-seq -9223372036854775807 -9223372036854775810 --step -1 | weir-map .n")
        #expect(down.lines == ["-9223372036854775807", "-9223372036854775808", "-9223372036854775809", "-9223372036854775810"])
    }

    @Test("counting down, with negative and decimal steps")
    func countingDown() throws {
        let result = try StageHarness.shell("weir-seq 3 -3 --step -1.5 | weir-map .n")
        #expect(result.lines == ["3.0", "1.5", "0.0", "-1.5", "-3.0"])
        let empty = try StageHarness.shell("weir-seq 1 3 --step -1")
        #expect(empty.status == 0 && empty.stdout.isEmpty)
    }

    @Test("the numbers are those of GNU seq, in order, on many chunks")
    func matchesSeqOnALongRun() throws {
        let result = try StageHarness.shell("weir-seq 200000 | weir-map .n | cmp - <(seq 200000) && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("a template runs on the workers, in order whatever -j")
    func template() throws {
        let template = #"'{id: .n, url: "http://x/\(.n)"}'"#
        let one = try StageHarness.shell("weir-seq 50000 -j 1 --template \(template)")
        let many = try StageHarness.shell("weir-seq 50000 -j 4 --template \(template)")
        #expect(one.status == 0 && many.status == 0)
        #expect(one.stdout == many.stdout)
        #expect(one.lines.count == 50000)
        #expect(one.lines[41] == #"{"id":42,"url":"http://x/42"}"#)
    }

    @Test("a template error is a bad record; --reject accounts for every value")
    func templateErrorsReconcile() throws {
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        let result = try StageHarness.shell(#"weir-seq 10000 --template 'if .n % 97 == 0 then .n + "x" else .n end' --reject \#(rejects) --stats"#)
        #expect(result.status == 0)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 10000)
        #expect(stats["rejected"] == 10000 / 97)
        #expect(stats["written"]! + stats["dropped"]! + stats["rejected"]! == stats["read"]!)
        #expect(result.lines.count == stats["written"])
        let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejectLines.count == 10000 / 97)
        #expect(rejectLines.first?.hasPrefix(#"{"file":"<seq>","line":97,"#) == true)
    }

    @Test("--forever | head -1 returns at once, status 0, nothing on standard error")
    func foreverStopsWithItsConsumer() throws {
        let result = try StageHarness.shell("timeout -s KILL 60 bash -o pipefail -c 'weir-seq --forever | head -1'")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"n":1}"#])
        #expect(result.stderr.isEmpty)
    }

    @Test("standard input is never read")
    func standardInputIsNotRead() throws {
        // The input is endless: a stage that read it would never end.
        let result = try StageHarness.shell("yes 2>/dev/null | timeout -s KILL 60 weir-seq 3; echo \"status ${PIPESTATUS[1]}\"")
        #expect(result.lines == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#, "status 0"])
    }
}
