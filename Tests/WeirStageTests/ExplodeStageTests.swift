import Foundation
import Testing

/// `weir-explode` through real pipes, checked against Python and jq's `.[]` when installed.
@Suite struct ExplodeStageTests {
    static let reference = UniqStageTests.reference

    @Test("one record per element or entry, as Python computes it")
    func matchesPython() throws {
        let data = try UniqStageTests.mixedData(5000, seed: 23)
        let result = try StageHarness.shell("weir-explode .items \(data) > \(data).out && python3 \(Self.reference) explode items < \(data) > \(data).ref && python3 \(Self.reference) same \(data).out \(data).ref && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("matches jq's .[] with the element put back")
    func matchesJQ() throws {
        guard (try? StageHarness.shell("command -v jq"))?.status == 0 else {
            print("SKIPPED: jq is not installed; weir-explode was not compared with jq")
            return
        }
        let data = try UniqStageTests.mixedData(3000, seed: 29, big: false)
        let arrays = #"'.items | type == "array"'"#, objects = #"'.items | type == "object"'"#
        let checks = [
            (arrays, "weir-explode .items", "jq -c 'select(\(arrays.dropFirst().dropLast())) | .items[] as $x | .items = $x'"),
            (objects, "weir-explode .items", "jq -c 'select(\(objects.dropFirst().dropLast())) | (.items | to_entries[]) as $x | .items = $x'"),
            (arrays, "weir-explode .items --as item --index-as n", "jq -c 'select(\(arrays.dropFirst().dropLast())) | . as $r | .items | to_entries[] | ($r | del(.items)) + {item: .value, n: .key}'"),
        ]
        for (filter, ours, theirs) in checks {
            let result = try StageHarness.shell("weir-filter \(filter) \(data) | \(ours) > \(data).out && \(theirs) \(data) > \(data).jq && python3 \(Self.reference) same \(data).out \(data).jq && echo same")
            #expect(result.lines == ["same"], "\(ours): \(result.stderr)")
        }
    }

    @Test("number literals and key order of the rest are kept")
    func keepsLiterals() throws {
        let input = "{\"z\":1.10,\"a\":[1.50,12345678901234567890],\"m\":{\"y\":2,\"x\":1e2}}\n"
        let result = try StageHarness.shell("weir-explode .a", input: input)
        #expect(result.lines == ["{\"z\":1.10,\"a\":1.50,\"m\":{\"y\":2,\"x\":1e2}}", "{\"z\":1.10,\"a\":12345678901234567890,\"m\":{\"y\":2,\"x\":1e2}}"])
        let nested = try StageHarness.shell("weir-explode '.m.list' --as .m.item --keep-empty", input: "{\"m\":{\"list\":[1,2],\"k\":0}}\n{\"m\":{}}\n")
        #expect(nested.lines == ["{\"m\":{\"k\":0,\"item\":1}}", "{\"m\":{\"k\":0,\"item\":2}}", "{\"m\":{\"item\":null}}"])
    }

    @Test("a string at the path is a bad record; a non-path is a usage error")
    func errors() throws {
        let input = "{\"a\":[1]}\n{\"a\":\"text\"}\n{\"a\":3}\n"
        let skipped = try StageHarness.shell("weir-explode .a --errors skip --stats", input: input)
        #expect(skipped.lines == ["{\"a\":1}"])
        #expect(skipped.stderr.contains("<stdin>:2:") && skipped.stderr.contains("cannot explode string"), "\(skipped.stderr)")
        let stats = StageHarness.stats(skipped.stderr)
        #expect(stats["read"] == 3 && stats["written"] == 1 && stats["rejected"] == 2 && stats["dropped"] == 0)
        let failed = try StageHarness.shell("weir-explode .a", input: input)
        #expect(failed.status == 1)
        for bad in ["'.a[]'", "'.a | length'", "'.a?'"] {
            let usage = try StageHarness.shell("weir-explode \(bad)")
            #expect(usage.status == 2 && usage.stderr.contains("must be a path"), "\(bad): \(usage.stderr)")
        }
    }

    @Test("-j 1 and -j 4 give identical output; --stats adds up", arguments: ["", "--keep-empty --index-as i"])
    func jobsAndStats(options: String) throws {
        let data = try UniqStageTests.mixedData(30_000, seed: 31)
        let result = try StageHarness.shell("weir-explode -j 1 .items \(options) \(data) > \(data).1 && weir-explode -j 4 .items \(options) \(data) > \(data).4 && cmp \(data).1 \(data).4 && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let stats = StageHarness.stats(try StageHarness.shell("weir-explode .tags \(options) --errors skip -q --stats > /dev/null", input: input).stderr)
        #expect(stats["read"] == 20_000 && stats["rejected"] == 20_000 / 97)
        #expect((stats["written"] ?? 0) + (stats["dropped"] ?? 0) + (stats["rejected"] ?? 0) == 20_000, "\(stats)")
        #expect(stats["outputs"] == 2 * (stats["written"] ?? 0))
    }
}
