import Foundation
import Testing

/// weir-split through real pipes: files complete or absent, paths kept inside their
/// directory, many keys through few descriptors, rolling, CSV, and the tee.
@Suite struct SplitStageTests {
    /// Every path under `directory` (files and folders), relative, sorted.
    static func listing(_ directory: URL) -> [String] {
        (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
    }

    static func contents(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? "(missing)"
    }

    @Test("2,000 keys through 16 descriptors: every file holds exactly its records, in order")
    func manyKeysFewDescriptors() throws {
        let directory = try StageHarness.temporaryDirectory()
        let keys = 2000, records = 12_000
        let input = (0..<records).map { "{\"k\":\"key\($0 % keys)\",\"i\":\($0)}" }.joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --to 'out/\\(.k | .[3:6])/\\(.k).ndjson' --max-open 16 --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.isEmpty)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["files"] == keys)
        #expect(stats["written"] == records)
        let files = Self.listing(directory).filter { $0.hasSuffix(".ndjson") }
        #expect(files.count == keys)
        #expect(!Self.listing(directory).contains { $0.contains(".weir-") })
        for key in [0, 1, 999, 1234, 1999] {
            let name = "key\(key)"
            let expected = stride(from: key, to: records, by: keys).map { "{\"k\":\"\(name)\",\"i\":\($0)}\n" }.joined()
            let folder = String(name.dropFirst(3).prefix(3))
            #expect(Self.contents(directory.appendingPathComponent("out/\(folder)/\(name).ndjson")) == expected)
        }
        // Every record is in the file its key names, and only there.
        var total = 0
        for file in files {
            let text = Self.contents(directory.appendingPathComponent(file))
            let name = (file as NSString).lastPathComponent.replacingOccurrences(of: ".ndjson", with: "")
            for line in text.split(separator: "\n") {
                #expect(line.contains("\"k\":\"\(name)\""))
                total += 1
            }
        }
        #expect(total == records)
    }

    @Test("1,000 keys: memory stays under 64 MB")
    func memoryStaysFlat() throws {
        let directory = try StageHarness.temporaryDirectory()
        // 12 MB over 1,000 files, more than the buffer budget (8 MiB) and the descriptors.
        let script = """
            cd \(directory.path)
            awk 'BEGIN { pad = "x"; while (length(pad) < 160) pad = pad pad; pad = substr(pad, 1, 160)
              for (i = 0; i < 60000; i++) printf "{\\"k\\":%d,\\"i\\":%d,\\"pad\\":\\"%s\\"}\\n", i % 1000, i, pad }' > in.ndjson
            /usr/bin/time -f '%M' -o rss weir-split --to 'out/\\(.k).ndjson' --stats in.ndjson
            echo "status $?"
            cat rss
            ls out | wc -l
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.first == "status 0", "\(result.stderr)")
        let kilobytes = Int(result.lines.dropFirst().first?.trimmingCharacters(in: .whitespaces) ?? "") ?? Int.max
        #expect(kilobytes < 64 * 1024, "peak RSS \(kilobytes) kB")
        #expect(result.lines.last?.trimmingCharacters(in: .whitespaces) == "1000")
    }

    @Test("values that would leave the directory are rejected; nothing is written outside it")
    func badKeysAreRejected() throws {
        let root = try StageHarness.temporaryDirectory()
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let keys = ["ok", "../escape", "/abs", "a/../../up", "/", "sub/fine", "a//b", "x\u{0}y", "./dot"]
        let input = keys.map { "{\"k\":\(String(decoding: try! JSONSerialization.data(withJSONObject: $0, options: .fragmentsAllowed), as: UTF8.self))}" }
            .joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("cd \(work.path) && weir-split --to 'out/\\(.k).ndjson' --reject ../rejects.ndjson --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.listing(root) == ["rejects.ndjson", "work", "work/out", "work/out/ok.ndjson", "work/out/sub", "work/out/sub/fine.ndjson"])
        let rejects = Self.contents(root.appendingPathComponent("rejects.ndjson")).split(separator: "\n")
        #expect(rejects.count == keys.count - 2)
        #expect(rejects.first?.contains(#""line":2"#) == true)
        #expect(rejects.first?.contains("'..' component") == true)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == keys.count)
        #expect(stats["written"] == 2)
        #expect(stats["rejected"] == keys.count - 2)

        // A template with no directory: the current one; absolute values stay out of /.
        let outside = "/tmp/weir-split-escape-\(UUID().uuidString)"
        let bare = try StageHarness.shell("cd \(work.path) && weir-split --to '\\(.k)' --errors skip -q", input: "{\"k\":\"\(outside)\"}\n{\"k\":\"../up\"}\n")
        #expect(bare.status == 0)
        #expect(bare.stderr.contains("skipped 2 bad records"), "\(bare.stderr)")
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(Self.listing(root).count == 6)
    }

    @Test("a directory that cannot be made: a clear error, exit 1, no files left")
    func unwritableDirectory() throws {
        let directory = try StageHarness.temporaryDirectory()
        FileManager.default.createFile(atPath: directory.appendingPathComponent("somefile").path, contents: Data("x".utf8))
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --to 'somefile/\\(.k).ndjson'", input: "{\"k\":\"a\"}\n")
        #expect(result.status == 1)
        #expect(result.stderr == "weir-split: cannot create 'somefile/a.ndjson': Not a directory\n")
        #expect(Self.listing(directory) == ["somefile"])
        // Directories it made before the failure are removed too.
        let deeper = try StageHarness.shell("cd \(directory.path) && weir-split --to 'made/\\(.k)/x.ndjson'", input: "{\"k\":\"a\"}\n{\"k\":\"b\"}\n")
        #expect(deeper.status == 0)
        let failing = try StageHarness.shell("cd \(directory.path) && weir-split --to '\\(.d)/\\(.k).ndjson'", input: "{\"d\":\"new\",\"k\":\"a\"}\n{\"d\":\"somefile\",\"k\":\"b\"}\n")
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("cannot create 'somefile/b.ndjson': Not a directory"))
        #expect(Self.listing(directory) == ["made", "made/a", "made/a/x.ndjson", "made/b", "made/b/x.ndjson", "somefile"])
    }

    @Test("a failing run leaves no files and no temporaries", arguments: ["ndjson", "csv"])
    func failingRunLeavesNothing(format: String) throws {
        let directory = try StageHarness.temporaryDirectory()
        let input = (1...5000).map { $0 == 4000 ? "{\"k\":oops}" : "{\"k\":\($0 % 7),\"i\":\($0)}" }.joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --format \(format) --to 'out/\\(.k)/part.\(format)'", input: input)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("weir-split: <stdin>:4000:"), "\(result.stderr)")
        #expect(Self.listing(directory) == [])
        // An unreadable input fails the run after all other input was written: still nothing.
        let missing = try StageHarness.shell("cd \(directory.path) && printf '{\"k\":1}\\n' > in.ndjson && weir-split --to 'out/\\(.k)' in.ndjson missing.ndjson")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open 'missing.ndjson'"))
        #expect(Self.listing(directory) == ["in.ndjson"])
    }

    @Test("--pass writes every record to standard output as well")
    func passIsATee() throws {
        let directory = try StageHarness.temporaryDirectory()
        let input = (1...20_000).map { "{\"k\":\($0 % 13),\"i\":\($0),\"s\":\"caf\\u00e9\"}" }.joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --to 'out/\\(.k).ndjson' --pass", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == input)
        let written = try StageHarness.shell("cd \(directory.path) && cat out/*.ndjson | sort")
        let sorted = try StageHarness.shell("sort", input: input)
        #expect(written.text == sorted.text)
        #expect(Self.listing(directory).count == 14)

        // A reader that goes away stops the copy only: the files are still complete. (6 MB,
        // more than a pipe holds, so the copy does meet the closed pipe.)
        let pad = String(repeating: "p", count: 300)
        let large = (1...20_000).map { "{\"k\":\($0 % 13),\"i\":\($0),\"pad\":\"\(pad)\"}" }.joined(separator: "\n") + "\n"
        let closed = try StageHarness.shell("cd \(directory.path) && weir-split --to 'head/\\(.k).ndjson' --pass | head -1", input: large)
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.lines == [String(large.prefix { $0 != "\n" })])
        let headed = try StageHarness.shell("cd \(directory.path) && cat head/*.ndjson | sort")
        let sortedLarge = try StageHarness.shell("sort", input: large)
        #expect(headed.text == sortedLarge.text)
    }

    @Test("standard output closed while the input is slow: the files are still written")
    func consumerLeavingEarlyDoesNotStopTheFiles() throws {
        let directory = try StageHarness.temporaryDirectory()
        let script = """
            cd \(directory.path)
            ( sleep 1; echo '{"k":"a"}'; sleep 1; echo '{"k":"b"}' ) | weir-split --to 'out/\\(.k).ndjson' | true
            echo "status $?"
            cat out/a.ndjson out/b.ndjson
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines == ["status 0", #"{"k":"a"}"#, #"{"k":"b"}"#], "\(result.text) \(result.stderr)")
    }

    @Test("--max-records rolls files, the part number before the extension")
    func rolling() throws {
        let directory = try StageHarness.temporaryDirectory()
        let input = (1...10).map { "{\"k\":\"\($0 % 2 == 0 ? "even" : "odd")\",\"i\":\($0)}" }.joined(separator: "\n") + "\n"
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --to 'out/\\(.k).ndjson' --max-records 2 --stats", input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.listing(directory) == [
            "out", "out/even-0001.ndjson", "out/even-0002.ndjson", "out/even-0003.ndjson",
            "out/odd-0001.ndjson", "out/odd-0002.ndjson", "out/odd-0003.ndjson",
        ])
        #expect(Self.contents(directory.appendingPathComponent("out/odd-0002.ndjson")) == "{\"k\":\"odd\",\"i\":5}\n{\"k\":\"odd\",\"i\":7}\n")
        #expect(Self.contents(directory.appendingPathComponent("out/odd-0003.ndjson")) == "{\"k\":\"odd\",\"i\":9}\n")
        #expect(StageHarness.stats(result.stderr)["files"] == 6)
    }

    @Test("--format csv: a header per file, columns per file or from --columns")
    func csvFiles() throws {
        let directory = try StageHarness.temporaryDirectory()
        let input = """
            {"shop":"a","sku":"A-1","qty":1}
            {"shop":"b","sku":"B-1","price":1.10}
            {"shop":"a","sku":"A-2","qty":2,"extra":true}
            {"shop":"a","sku":"A, 3","qty":3}

            """
        let result = try StageHarness.shell("cd \(directory.path) && weir-split --format csv --to '\\(.shop).csv' --errors skip", input: input)
        #expect(result.status == 0)
        #expect(result.stderr.contains("<stdin>:3:"), "\(result.stderr)")
        #expect(result.stderr.contains(#"key "extra" is not a column"#))
        #expect(Self.contents(directory.appendingPathComponent("a.csv")) == "shop,sku,qty\na,A-1,1\na,\"A, 3\",3\n")
        #expect(Self.contents(directory.appendingPathComponent("b.csv")) == "shop,sku,price\nb,B-1,1.10\n")
        let chosen = try StageHarness.shell("cd \(directory.path) && weir-split --format csv --to 'tsv/\\(.shop).tsv' --columns sku,qty --tsv --max-records 1", input: input)
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(Self.contents(directory.appendingPathComponent("tsv/a-0002.tsv")) == "sku\tqty\nA-2\t2\n")
        #expect(Self.contents(directory.appendingPathComponent("tsv/b-0001.tsv")) == "sku\tqty\nB-1\t\n")
        let notObject = try StageHarness.shell("cd \(directory.path) && weir-split --format csv --to 'x/\\(.).csv'", input: "[1]\n")
        #expect(notObject.status == 1)
        #expect(notObject.stderr.contains("not one"))
    }

    @Test("SIGTERM during a split leaves no file and no temporary")
    func signalLeavesNothing() throws {
        let directory = try StageHarness.temporaryDirectory()
        let script = """
            cd \(directory.path)
            mkfifo in
            weir-split --to 'out/\\(.k)/\\(.i % 3).ndjson' < in 2> err &
            pid=$!
            exec 3> in
            for i in $(seq 1 2000); do echo "{\\"k\\":$((i % 50)),\\"i\\":$i}"; done >&3
            for i in $(seq 1 100); do
              [ -n "$(find out -name '*.tmp' 2>/dev/null | head -1)" ] && break
              sleep 0.1
            done
            echo "temporaries: $(find out -name '*.tmp' 2>/dev/null | wc -l | tr -d ' ')"
            kill -TERM $pid
            wait $pid
            echo "status $?"
            exec 3>&-
            rm in err
            find . | sort
            """
        let result = try StageHarness.shell(script)
        #expect(result.lines.first != "temporaries: 0", "\(result.text)")
        #expect(Array(result.lines.dropFirst()) == ["status 143", "."], "\(result.text)")
    }

    @Test("usage errors: no --to, a bad template, CSV options without --format csv, -o without --pass")
    func usageErrors() throws {
        for command in [
            "weir-split", "weir-split --to 'out/\\(.a'", "weir-split --to x --columns a", "weir-split --to x -o y",
            "weir-split --to x --max-open 0", "weir-split --to x --max-open 100000000", "weir-split --to x --format xml",
            "weir-split --to x --max-records 0", "weir-split --to x --format csv --columns a,a",
        ] {
            let result = try StageHarness.shell(command)
            #expect(result.status == 2, "\(command)")
            #expect(result.stderr.contains("Try 'weir-split --help'"), "\(command): \(result.stderr)")
        }
    }
}
