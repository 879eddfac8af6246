import Foundation
import Testing

/// weir-sample through real pipes: sizes, order, reproducibility whatever -j, accounting.
@Suite struct SampleStageTests {
    static let records = (1...100_000).map { "{\"id\":\($0),\"name\":\"item \($0)\"}\n" }.joined()

    /// The ids of the output records, in output order.
    func ids(_ result: StageHarness.Result) -> [Int] {
        result.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? Int
        }
    }

    @Test("-n N on 100k records gives N records in input order, the same for -j 1 and -j 4")
    func reservoirSizeOrderAndJobs() throws {
        let one = try StageHarness.shell("weir-sample -n 1000 --seed 42 -j 1", input: Self.records)
        let four = try StageHarness.shell("weir-sample -n 1000 --seed 42 -j 4", input: Self.records)
        #expect(one.status == 0 && four.status == 0, "\(one.stderr) \(four.stderr)")
        #expect(one.stderr.isEmpty)
        let sampled = ids(one)
        #expect(sampled.count == 1000)
        #expect(zip(sampled, sampled.dropFirst()).allSatisfy { $0 < $1 }, "not in input order")
        #expect(sampled.allSatisfy { (1...100_000).contains($0) })
        #expect(one.stdout == four.stdout)
        // Spread over the whole input, not bunched at its start or end: about 250 per quarter.
        for quarter in 0..<4 {
            let inQuarter = sampled.filter { ($0 - 1) / 25_000 == quarter }.count
            #expect((150...350).contains(inQuarter), "quarter \(quarter): \(inQuarter)")
        }
        let other = try StageHarness.shell("weir-sample -n 1000 --seed 43", input: Self.records)
        #expect(other.stdout != one.stdout)
    }

    @Test("--fraction is reproducible with a seed and independent of -j")
    func bernoulliReproducible() throws {
        let one = try StageHarness.shell("weir-sample --fraction 0.1 --seed 7 -j 1", input: Self.records)
        let four = try StageHarness.shell("weir-sample --fraction 0.1 --seed 7 -j 4", input: Self.records)
        let again = try StageHarness.shell("weir-sample --fraction 0.1 --seed 7", input: Self.records)
        #expect(one.status == 0 && four.status == 0 && again.status == 0)
        #expect(one.stdout == four.stdout)
        #expect(one.stdout == again.stdout)
        let sampled = ids(one)
        // 10,000 expected; the standard deviation is about 95.
        #expect((9_000...11_000).contains(sampled.count), "\(sampled.count)")
        #expect(zip(sampled, sampled.dropFirst()).allSatisfy { $0 < $1 })
        let other = try StageHarness.shell("weir-sample --fraction 0.1 --seed 8", input: Self.records)
        #expect(other.stdout != one.stdout)
    }

    @Test("without --seed every run draws its own sample, and prints nothing extra")
    func systemSeed() throws {
        let input = (1...1000).map { "{\"id\":\($0)}\n" }.joined()
        var outputs: Set<Data> = []
        for _ in 0..<4 {
            let result = try StageHarness.shell("weir-sample -n 10", input: input)
            #expect(result.status == 0)
            #expect(result.stderr.isEmpty)
            #expect(result.lines.count == 10)
            outputs.insert(result.stdout)
        }
        #expect(outputs.count > 1)
    }

    @Test("with --reject every record is accounted for, and bytes_written is what was written")
    func statsReconcile() throws {
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        for mode in ["-n 500", "-n 50000", "--fraction 0.3", "--fraction 0"] {
            let result = try StageHarness.shell("weir-sample \(mode) --seed 1 --reject \(rejects) --stats", input: input)
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            let counts = StageHarness.stats(result.stderr)
            let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
            #expect(counts["read"] == 20_000)
            #expect(counts["rejected"] == 20_000 / 97)
            #expect(rejectLines.count == counts["rejected"])
            #expect(counts["written", default: -1] + counts["dropped", default: -1] + counts["rejected", default: -1] == counts["read"], "\(mode): \(counts)")
            #expect((result.stdout.isEmpty ? 0 : result.lines.count) == counts["written"])
            #expect(result.stdout.count == counts["bytes_written"], "\(mode): \(counts)")
        }
    }

    @Test("--fraction streams: | head -1 on endless input returns at once")
    func fractionStreams() throws {
        let result = try StageHarness.shell("timeout 60 bash -c \"yes '{\\\"a\\\":1}' 2>/dev/null | weir-sample --fraction 0.5 | head -1\"")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.lines == ["{\"a\":1}"])
    }
}
