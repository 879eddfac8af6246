import Foundation
import Testing

/// `weir-uniq` through real pipes, checked against Python (exact numbers) and jq when installed.
@Suite struct UniqStageTests {
    static let reference = StageHarness.repositoryRoot.appendingPathComponent("Tests/support/reference.py").path
    static let hasJQ = (try? StageHarness.shell("command -v jq"))?.status == 0

    /// Mixed-type records (nulls, booleans, 1.10 vs 1.1, -0, 2e0, big integers, strings with
    /// escapes, arrays, objects in varying key order) in a fresh file; returns its path.
    static func mixedData(_ count: Int, seed: Int, big: Bool = true) throws -> String {
        let directory = try StageHarness.temporaryDirectory()
        let path = directory.appendingPathComponent("mixed.ndjson").path
        let result = try StageHarness.shell("python3 \(reference) gen \(count) \(seed)\(big ? "" : " --no-big") > \(path)")
        #expect(result.status == 0, "\(result.stderr)")
        return path
    }

    @Test("keeps the first record of each key as Python computes it", arguments: ["--by .k", "--by .items", ""])
    func matchesPython(options: String) throws {
        let data = try Self.mixedData(5000, seed: 7)
        let field = options.isEmpty ? "-" : (options == "--by .items" ? "items" : "k")
        let result = try StageHarness.shell("weir-uniq \(options) \(data) > \(data).out && python3 \(Self.reference) uniq \(field) < \(data) > \(data).ref && cmp \(data).out \(data).ref && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("--count gives Python's counts in first-seen order, and they add up to the input")
    func countsMatchPython() throws {
        let data = try Self.mixedData(5000, seed: 11)
        let result = try StageHarness.shell("weir-uniq --count --by .k \(data) | weir-map .count > \(data).out && python3 \(Self.reference) count k < \(data) > \(data).ref && cmp \(data).out \(data).ref && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
        let total = try StageHarness.shell("weir-uniq -c --by .k \(data) | weir-map .count | awk '{ s += $1 } END { print s }'")
        #expect(total.lines == ["5000"])
    }

    @Test("matches jq's unique_by (jq sorts by key: so do we, after)")
    func matchesJQ() throws {
        guard Self.hasJQ else {
            print("SKIPPED: jq is not installed; weir-uniq was not compared with jq")
            return
        }
        // jq 1.6 reads big integers as doubles: compare on data without them.
        let data = try Self.mixedData(3000, seed: 3, big: false)
        for key in [".k", ".items", "."] {
            let result = try StageHarness.shell("weir-uniq --by '\(key)' \(data) | jq -cs 'sort_by(\(key))[]' > \(data).out && jq -cs 'unique_by(\(key))[]' \(data) > \(data).jq && python3 \(Self.reference) same \(data).out \(data).jq && echo same")
            #expect(result.lines == ["same"], "\(key): \(result.stderr)")
        }
    }

    @Test("--repeated and --unique as uniq -d and -u, sorted or not")
    func repeatedAndUnique() throws {
        let input = (1...1000).map { #"{"k":\#($0 % 10 == 0 ? $0 : $0 % 7)}"# }.joined(separator: "\n") + "\n"
        let repeated = try StageHarness.shell("weir-uniq -d --by .k", input: input)
        #expect(repeated.lines == (1...7).map { #"{"k":\#($0 % 7)}"# })
        let unique = try StageHarness.shell("weir-uniq -u --by .k | weir-map .k", input: input)
        #expect(unique.lines == stride(from: 10, through: 1000, by: 10).map { "\($0)" })
        // Sorted input: the same answers as GNU uniq on the keys, streaming.
        let gnu = try StageHarness.shell("weir-map .k | sort -n > keys.txt; uniq -u keys.txt > a.txt; uniq -c keys.txt | awk '{print $1}' > c.txt; weir-map '{k: .}' keys.txt | weir-uniq --sorted -u --by .k | weir-map .k > b.txt; weir-map '{k: .}' keys.txt | weir-uniq --sorted -c --by .k | weir-map .count > d.txt; cmp a.txt b.txt && cmp c.txt d.txt && echo same; rm -f keys.txt a.txt b.txt c.txt d.txt", input: input)
        #expect(gnu.lines == ["same"], "\(gnu.stderr)")
    }

    @Test("-j 1 and -j 4 give identical output in every mode", arguments: ["", "--by .k", "-c --by .k", "-d --by .items", "-u"])
    func jobsDoNotChangeOutput(options: String) throws {
        let data = try Self.mixedData(20_000, seed: 5)
        let result = try StageHarness.shell("weir-uniq -j 1 \(options) \(data) > \(data).1 && weir-uniq -j 4 \(options) \(data) > \(data).4 && cmp \(data).1 \(data).4 && echo same")
        #expect(result.lines == ["same"], "\(result.stderr)")
    }

    @Test("--stats adds up in every --errors mode", arguments: ["", "--by .stock", "-c --by .stock", "-d --by .stock", "-u --by .stock", "--sorted --by .id"])
    func countsReconcile(options: String) throws {
        let input = PipelineTests.records(count: 20_000, badEvery: 97)
        let directory = try StageHarness.temporaryDirectory()
        let rejects = directory.appendingPathComponent("rejects.ndjson").path
        for errors in ["--reject \(rejects)", "--errors skip -q"] {
            let result = try StageHarness.shell("weir-uniq \(options) \(errors) --stats", input: input)
            #expect(result.status == 0, "\(result.stderr)")
            let stats = StageHarness.stats(result.stderr)
            let read = stats["read"] ?? -1, written = stats["written"] ?? -1, dropped = stats["dropped"] ?? -1, rejected = stats["rejected"] ?? -1
            #expect(read == 20_000 && rejected == 20_000 / 97)
            #expect(written + dropped + rejected == read, "\(options) \(errors): \(stats)")
            #expect((result.text.isEmpty ? 0 : result.lines.count) == written, "\(options): \(stats)")
        }
        let failing = try StageHarness.shell("weir-uniq \(options)", input: input)
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("<stdin>:97:"), "\(failing.stderr)")
    }

    @Test("a key expression that fails or yields no value is a bad record")
    func badKeys() throws {
        let input = "{\"a\":1}\n{\"a\":\"x\"}\n{\"b\":2}\n{\"a\":[1,2]}\n"
        let result = try StageHarness.shell("weir-uniq --by '.a + 1' --errors skip", input: input)
        #expect(result.lines == ["{\"a\":1}", "{\"b\":2}"])
        #expect(result.stderr.contains("<stdin>:2:") && result.stderr.contains("<stdin>:4:"), "\(result.stderr)")
        let none = try StageHarness.shell("weir-uniq --by '.a[]?' --errors skip", input: input)
        #expect(none.text.isEmpty)
        #expect(none.stderr.contains("yielded no value") && none.stderr.contains("yielded 2 values"), "\(none.stderr)")
    }

    @Test("--memory stops the run with a message that says the bound was reached")
    func memoryBound() throws {
        let result = try StageHarness.shell("weir-seq 200000 | weir-uniq --memory 1M --by .n > /dev/null")
        #expect(result.status == 1)
        #expect(result.stderr.contains("the --memory bound of 1M was reached after"), "\(result.stderr)")
        #expect(result.stderr.contains("raise it (--memory SIZE)"))
        let enough = try StageHarness.shell("weir-seq 200000 | weir-uniq --memory 64M --by .n | wc -l")
        #expect(enough.text.trimmingCharacters(in: .whitespacesAndNewlines) == "200000", "\(enough.stderr)")
        let hashed = try StageHarness.shell("weir-seq 50000 --template '{n, pad: \"a rather long padding text\"}' | weir-uniq --hashed | wc -l")
        #expect(hashed.text.trimmingCharacters(in: .whitespacesAndNewlines) == "50000")
    }
}
