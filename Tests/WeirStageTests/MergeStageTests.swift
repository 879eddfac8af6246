import Foundation
import Testing
import WeirCore

/// weir-merge through real pipes and FIFOs: fan-in as records arrive, and the k-way merge.
@Suite struct MergeStageTests {
    /// The JSON object on a line, or nil when the line is not one (a torn record).
    static func object(_ line: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    @Test("FIFOs written at once by concurrent writers: every line comes out once, whole")
    func concurrentWritersIntoFIFOs() throws {
        let directory = try StageHarness.temporaryDirectory()
        // Four writers, 2,500 lines each, many longer than a pipe's atomic write (4 KiB),
        // all writing at the same time; the merge reads the four FIFOs at once.
        let script = """
            cd \(directory.path)
            for w in 1 2 3 4; do mkfifo in$w; done
            for w in 1 2 3 4; do
              awk -v w=$w 'BEGIN { pad = "x"; while (length(pad) < 6000) pad = pad pad
                for (n = 1; n <= 2500; n++) printf "{\\"w\\":%d,\\"n\\":%d,\\"pad\\":\\"%s\\"}\\n", w, n, substr(pad, 1, (n * 7919) % 6000) }' > in$w &
            done
            weir-merge in1 in2 in3 in4
            wait
            """
        let result = try StageHarness.shell(script)
        #expect(result.status == 0, "\(result.stderr)")
        var seen = Set<String>()
        var lastByWriter: [Int: Int] = [:]
        var torn = 0
        for line in result.lines {
            guard let record = Self.object(line), let writer = record["w"] as? Int, let number = record["n"] as? Int,
                  let pad = record["pad"] as? String, pad.count == (number * 7919) % 6000 else {
                torn += 1
                continue
            }
            seen.insert("\(writer):\(number)")
            // Each input keeps its own order.
            #expect(number > lastByWriter[writer, default: 0])
            lastByWriter[writer] = number
        }
        #expect(torn == 0)
        #expect(result.lines.count == 10_000)
        #expect(seen.count == 10_000)
    }

    @Test("a slow input never holds up a fast one")
    func slowInputDoesNotBlockFastOne() throws {
        let directory = try StageHarness.temporaryDirectory()
        // The slow writer opens its FIFO at once but writes its first line only after 5 s;
        // the fast input's records must be out well before that.
        let script = """
            cd \(directory.path)
            mkfifo slow fast
            ( exec 3> slow; sleep 5; echo '{"slow":1}' >&3 ) &
            ( for i in 1 2 3; do echo "{\\"fast\\":$i}"; done > fast ) &
            weir-merge slow fast > out &
            merge=$!
            for i in $(seq 1 40); do
              [ "$(wc -l < out)" -ge 3 ] && break
              sleep 0.1
            done
            echo "early: $(tr '\\n' ' ' < out)"
            wait $merge
            echo "status: $?"
            echo "final: $(tr '\\n' ' ' < out)"
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.count == 3, "\(result.text) \(result.stderr)")
        #expect(result.lines.first == #"early: {"fast":1} {"fast":2} {"fast":3} "#)
        #expect(result.lines.dropFirst().first == "status: 0")
        #expect(result.lines.last == #"final: {"fast":1} {"fast":2} {"fast":3} {"slow":1} "#)
    }

    /// A jq-ordered sort key for the test data: numbers before strings.
    struct Key: Comparable {
        var value: Any
        var rank: Int { value is String ? 1 : 0 }
        static func < (left: Key, right: Key) -> Bool {
            if left.rank != right.rank { return left.rank < right.rank }
            if let a = left.value as? Int, let b = right.value as? Int { return a < b }
            return (left.value as! String).utf8.lexicographicallyPrecedes((right.value as! String).utf8)
        }
        static func == (left: Key, right: Key) -> Bool { !(left < right) && !(right < left) }
        var json: String { value is String ? "\"\(value)\"" : "\(value)" }
    }

    @Test("--by merges pre-sorted files into what a stable sort of their concatenation gives", arguments: [false, true])
    func mergeEqualsStableSort(descending: Bool) throws {
        let directory = try StageHarness.temporaryDirectory()
        // Five inputs (one empty), with equal keys within and across them, numbers and strings.
        var generator = SplitMix64(seed: descending ? 7 : 42)  // the core's seeded generator: a failure repeats
        var all: [(key: Key, line: String)] = []
        var names: [String] = []
        for file in 0..<5 {
            let count = file == 3 ? 0 : Int.random(in: 200...2000, using: &generator)
            var records: [(key: Key, line: String)] = []
            for index in 0..<count {
                let key = Bool.random(using: &generator) ? Key(value: Int.random(in: -20...40, using: &generator))
                    : Key(value: ["a", "b", "é", "ab", "B"].randomElement(using: &generator)!)
                records.append((key, "{\"k\":\(key.json),\"id\":\"\(file):\(index)\"}"))
            }
            // A stable sort of each file (its own order among equal keys stays).
            records = records.enumerated().sorted { a, b in
                if a.element.key != b.element.key { return descending ? b.element.key < a.element.key : a.element.key < b.element.key }
                return a.offset < b.offset
            }.map(\.element)
            let name = "part\(file).ndjson"
            try (records.map(\.line).joined(separator: "\n") + (records.isEmpty ? "" : "\n"))
                .write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            names.append(name)
            all += records
        }
        let expected = all.enumerated().sorted { a, b in
            if a.element.key != b.element.key { return descending ? b.element.key < a.element.key : a.element.key < b.element.key }
            return a.offset < b.offset
        }.map(\.element.line)
        let result = try StageHarness.shell("cd \(directory.path) && weir-merge --by .k \(descending ? "-r" : "") \(names.joined(separator: " "))")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == expected.count)
        #expect(result.lines == expected)
    }


    @Test("--by merges FIFOs fed at different speeds")
    func mergeOfFIFOs() throws {
        let directory = try StageHarness.temporaryDirectory()
        let script = """
            cd \(directory.path)
            mkfifo odd even
            ( for i in $(seq 1 2 99); do echo "{\\"n\\":$i}"; sleep 0.01; done > odd ) &
            seq 2 2 100 | awk '{ print "{\\"n\\":" $1 "}" }' > even &
            weir-merge --by .n odd even | weir-map .n
            wait
            """
        let result = try StageHarness.shell(script)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == (1...100).map(String.init))
    }

    @Test("a bad record in one input is reported with that input's name and line", arguments: ["", "--by .n"])
    func badRecordNamesItsInput(mode: String) throws {
        let directory = try StageHarness.temporaryDirectory()
        try "{\"n\":1}\n{\"n\":3}\n".write(to: directory.appendingPathComponent("good.ndjson"), atomically: true, encoding: .utf8)
        try "{\"n\":2}\n\n{\"n\":4,}\n{\"n\":5}\n".write(to: directory.appendingPathComponent("bad.ndjson"), atomically: true, encoding: .utf8)
        let failing = try StageHarness.shell("cd \(directory.path) && weir-merge \(mode) good.ndjson bad.ndjson")
        #expect(failing.status == 1)
        #expect(failing.stderr.hasPrefix("weir-merge: bad.ndjson:3:"), "\(failing.stderr)")

        let rejecting = try StageHarness.shell("cd \(directory.path) && weir-merge \(mode) --reject rejects.ndjson --stats good.ndjson bad.ndjson")
        #expect(rejecting.status == 0, "\(rejecting.stderr)")
        let numbers = rejecting.lines.compactMap { Self.object($0)?["n"] as? Int }
        #expect(Set(numbers) == [1, 2, 3, 5])
        if !mode.isEmpty { #expect(numbers == [1, 2, 3, 5]) }
        let rejects = try String(contentsOf: directory.appendingPathComponent("rejects.ndjson"), encoding: .utf8)
        let entry = Self.object(rejects.split(separator: "\n").first.map(String.init) ?? "")
        #expect(entry?["file"] as? String == "bad.ndjson")
        #expect(entry?["line"] as? Int == 3)
        #expect(entry?["input"] as? String == "{\"n\":4,}")
        #expect(rejecting.stderr.contains(#""read":5,"written":4,"dropped":0,"rejected":1"#), "\(rejecting.stderr)")
    }

    @Test("--source names each record's input as given; a non-object is a bad record")
    func sourceField() throws {
        let directory = try StageHarness.temporaryDirectory()
        try "{\"a\":1}\n[2]\n".write(to: directory.appendingPathComponent("x.ndjson"), atomically: true, encoding: .utf8)
        let result = try StageHarness.shell("cd \(directory.path) && weir-merge --by .a --source src --errors skip x.ndjson ./x.ndjson")
        #expect(result.status == 0)
        // The key of [2] (.a of an array) fails: a bad record, in both inputs.
        #expect(result.lines == [#"{"a":1,"src":"x.ndjson"}"#, #"{"a":1,"src":"./x.ndjson"}"#])
        #expect(result.stderr.contains("x.ndjson:2:"))
        #expect(result.stderr.contains("./x.ndjson:2:"))
    }

    @Test("usage: - at most once, -r only with --by, a bad --by expression")
    func usageErrors() throws {
        for command in ["weir-merge - -", "weir-merge -r", "weir-merge --by '.a +'"] {
            let result = try StageHarness.shell(command)
            #expect(result.status == 2, "\(command)")
            #expect(result.stderr.contains("Try 'weir-merge --help'"), "\(command): \(result.stderr)")
        }
    }
}
