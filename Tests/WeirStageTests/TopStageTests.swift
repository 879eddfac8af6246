import Foundation
import Testing

/// `weir-top` through real pipes, checked against Python (exact numbers) and jq when installed.
@Suite struct TopStageTests {
    static let reference = UniqStageTests.reference

    @Test("the top N per group as a stable sort computes it", arguments: ["", "-r"], ["-", "g"])
    func matchesPython(direction: String, group: String) throws {
        let data = try UniqStageTests.mixedData(5000, seed: 13)
        let groupOption = group == "-" ? "" : "--group .g"
        // Our groups come in first-seen order, Python's too (dicts keep insertion order).
        for field in ["k", "price", "items"] {
            let result = try StageHarness.shell("weir-top -n 25 \(direction) --by .\(field) \(groupOption) \(data) > \(data).out && python3 \(Self.reference) top 25 \(field) \(group) \(direction.isEmpty ? "largest" : "smallest") < \(data) > \(data).ref && cmp \(data).out \(data).ref && echo same")
            #expect(result.lines == ["same"], ".\(field) \(direction) \(groupOption): \(result.stderr)")
        }
    }

    @Test("matches jq's sort_by | .[:n] and min_by")
    func matchesJQ() throws {
        guard (try? StageHarness.shell("command -v jq"))?.status == 0 else {
            print("SKIPPED: jq is not installed; weir-top was not compared with jq")
            return
        }
        let data = try UniqStageTests.mixedData(3000, seed: 17, big: false)
        let checks = [
            ("weir-top -n 30 -r --by .k", "jq -cs 'sort_by(.k) | .[:30][]'"),
            ("weir-top -n 30 --by .k", "jq -cs '. as $a | [range(length)] | sort_by($a[.].k, -.) | reverse | .[:30] | map($a[.])[]'"),
            ("weir-top -n 1 -r --by .price", "jq -cs 'min_by(.price)'"),
            ("weir-top -n 5 -r --by .k --group .g | jq -cs 'sort_by(.g)[]'", "jq -cs 'group_by(.g) | map(sort_by(.k) | .[:5]) | add[]'"),
        ]
        for (ours, theirs) in checks {
            let result = try StageHarness.shell("\(ours.replacingOccurrences(of: " --by", with: " \(data) --by")) > \(data).out && \(theirs) \(data) > \(data).jq && python3 \(Self.reference) same \(data).out \(data).jq && echo same")
            #expect(result.lines == ["same"], "\(ours): \(result.stderr)")
        }
    }

    @Test("ties keep input order; big integers compare exactly")
    func tiesAndBigNumbers() throws {
        let input = "{\"k\":1.10,\"id\":1}\n{\"k\":12345678901234567891,\"id\":2}\n{\"k\":1.1,\"id\":3}\n{\"k\":12345678901234567890,\"id\":4}\n{\"k\":\"1\",\"id\":5}\n"
        let top = try StageHarness.shell("weir-top -n 4 --by .k | weir-map .id", input: input)
        #expect(top.lines == ["5", "2", "4", "1"])
        let bottom = try StageHarness.shell("weir-top -n 3 -r --by .k | weir-map .id", input: input)
        #expect(bottom.lines == ["1", "3", "4"])
    }

    @Test("-j 1 and -j 4 give identical output", arguments: ["-n 10 --by .k", "-n 3 -r --by .price --group .k"])
    func jobsDoNotChangeOutput(options: String) throws {
        let data = try UniqStageTests.mixedData(30_000, seed: 19)
        let result = try StageHarness.shell("weir-top -j 1 \(options) \(data) > \(data).1 && weir-top -j 4 \(options) \(data) > \(data).4 && cmp \(data).1 \(data).4 && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("--stats adds up in every --errors mode", arguments: ["-n 100 --by .stock", "-n 2 -r --by .price --group .stock"])
    func countsReconcile(options: String) throws {
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        for errors in ["--reject \(rejects)", "--errors skip -q"] {
            let result = try StageHarness.shell("weir-top \(options) \(errors) --stats", input: input)
            #expect(result.status == 0, "\(result.stderr)")
            let stats = StageHarness.stats(result.stderr)
            let read = stats["read"] ?? -1, written = stats["written"] ?? -1, dropped = stats["dropped"] ?? -1, rejected = stats["rejected"] ?? -1
            #expect(read == 20_000 && rejected == 20_000 / 97)
            #expect(written + dropped + rejected == read, "\(stats)")
            #expect(result.lines.count == written)
            #expect(written == (options.contains("--group") ? 23 * 2 : 100))
        }
        let failing = try StageHarness.shell("weir-top \(options)", input: input)
        #expect(failing.status == 1 && failing.stderr.contains("<stdin>:97:"), "\(failing.stderr)")
    }

    @Test("a key that fails is a bad record; type mixes are ordered, not errors")
    func badKeysAndTypeMixes() throws {
        let input = "{\"k\":1}\n{\"k\":\"a\"}\n{\"k\":null}\n{\"k\":[0]}\n{\"k\":{}}\n{\"k\":true}\n"
        let mixed = try StageHarness.shell("weir-top -n 6 --by .k | weir-map .k", input: input)
        #expect(mixed.lines == ["{}", "[0]", "\"a\"", "1", "true", "null"])
        let bad = try StageHarness.shell("weir-top --by '.k + 1' --errors skip | weir-map .k", input: input)
        #expect(bad.lines == ["1", "null"], "\(bad.stderr)")
        #expect(bad.stderr.contains("<stdin>:2:"))
        let usage = try StageHarness.shell("weir-top -n 3")
        #expect(usage.status == 2 && usage.stderr.contains("missing --by"))
    }
}
