import Foundation
import Testing

/// `weir-from-lines` through real pipes: every line a record, numbered, UTF-8 checked.
@Suite struct FromLinesStageTests {
    /// The JSON values of the output lines.
    func values(_ result: StageHarness.Result) -> [Any] {
        result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
    }

    @Test("empty and blank lines are records, a last line without a line end is one, \\r\\n and a BOM are handled")
    func lineEnds() throws {
        let result = try StageHarness.shell(#"printf '\xef\xbb\xbfa\n\n  \nb\r\nc\rd\r\n\r\nlast' | weir-from-lines"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#""a""#, #""""#, #""  ""#, #""b""#, #""c\rd""#, #""""#, #""last""#])
        let empty = try StageHarness.shell("printf '' | weir-from-lines; printf '\\n' | weir-from-lines")
        #expect(empty.lines == [#""""#])
    }

    @Test("the same values as jq -R, on text with escapes, unicode and control characters")
    func sameAsJQ() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/jq") else { return }
        var lines: [String] = []
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "\"", "\\", "\t", "\u{1}", "\u{1B}[0m", "é", "東京", "😀", " ", "/", "\u{7F}", "\u{2028}"]
        for _ in 0..<3_000 { lines.append((0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()) }
        let input = Data((lines.joined(separator: "\n") + "\n").utf8)
        let ours = try StageHarness.shell("weir-from-lines", input: input)
        let theirs = try StageHarness.shell("jq -R .", input: input)
        #expect(ours.status == 0 && theirs.status == 0)
        #expect(values(ours) as? [String] == values(theirs) as? [String])
        #expect(values(ours) as? [String] == lines)
    }

    @Test("--as and --number-as make objects; numbers go on across files as cat -n counts")
    func numbering() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("p\nq\n".utf8).write(to: directory.appendingPathComponent("a.txt"))
        try Data("r".utf8).write(to: directory.appendingPathComponent("b.txt"))
        let result = try StageHarness.shell("cd \(directory.path) && weir-from-lines --number-as n a.txt b.txt a.txt && weir-from-lines --as t --number-as i < b.txt")
        #expect(result.lines == [
            #"{"n":1,"line":"p"}"#, #"{"n":2,"line":"q"}"#, #"{"n":3,"line":"r"}"#, #"{"n":4,"line":"p"}"#, #"{"n":5,"line":"q"}"#,
            #"{"i":1,"t":"r"}"#,
        ])
        let same = try StageHarness.shell("weir-from-lines --as x --number-as x < /dev/null")
        #expect(same.status == 2 && same.stderr.contains("same field"))
    }

    @Test("numbers and order hold over many chunks, with any -j, and the text comes back with weir-map -r")
    func manyChunks() throws {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("text.txt").path
        let lines = (1...300_000).map { $0 % 97 == 0 ? "" : "line \($0) caf\u{e9} \"q\" \\ \($0 % 13 == 0 ? "\t東京" : "")" }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let script = """
            weir-from-lines -j 1 --number-as n --as t \(path) > one.ndjson
            weir-from-lines -j 2 --number-as n --as t \(path) > two.ndjson
            cmp one.ndjson two.ndjson && echo same
            weir-map -r .t one.ndjson | cmp - \(path) && echo roundtrip
            weir-map -r .n one.ndjson | cmp - <(seq 300000) && echo numbered
            cat \(path) | weir-from-lines | weir-map -r . | cmp - \(path) && echo piped
            """
        let result = try StageHarness.shell("cd \(directory.path) && " + script)
        #expect(result.lines == ["same", "roundtrip", "numbered", "piped"], "\(result.stderr)")
    }

    @Test("invalid UTF-8 is a bad record at FILE:LINE:COL under --errors; --lossy keeps the line")
    func invalidUTF8() throws {
        let input = Data([0x6F, 0x6B, 0x0A] + Array("bad ".utf8) + [0xE9] + Array(" here\nok2\n".utf8))
        let failed = try StageHarness.shell("weir-from-lines", input: input)
        #expect(failed.status == 1)
        #expect(failed.lines == [#""ok""#])
        #expect(failed.stderr.hasPrefix("weir-from-lines: <stdin>:2:5: invalid UTF-8: byte 0xE9"), "\(failed.stderr)")
        let skipped = try StageHarness.shell("weir-from-lines --errors skip --stats", input: input)
        #expect(skipped.status == 0 && skipped.lines == [#""ok""#, #""ok2""#])
        let stats = StageHarness.stats(skipped.stderr)
        #expect(stats["read"] == 3 && stats["written"] == 2 && stats["rejected"] == 1, "\(skipped.stderr)")
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rejects = directory.appendingPathComponent("rejects.ndjson")
        let rejected = try StageHarness.shell("weir-from-lines --reject \(rejects.path)", input: input)
        #expect(rejected.status == 0 && rejected.lines == [#""ok""#, #""ok2""#])
        let entry = try JSONSerialization.jsonObject(with: Data(contentsOf: rejects)) as? [String: Any]
        #expect(entry?["line"] as? Int == 2 && entry?["column"] as? Int == 5)
        #expect((entry?["input_base64"] as? String).flatMap { Data(base64Encoded: $0) } == Data(Array("bad ".utf8) + [0xE9] + Array(" here".utf8)))
        let lossy = try StageHarness.shell("weir-from-lines --lossy", input: input)
        #expect(lossy.status == 0 && lossy.lines == [#""ok""#, "\"bad \u{FFFD} here\"", #""ok2""#])
    }

    @Test("a line over --max-line-bytes is a bad record, long or short of the reader's buffer")
    func longLines() throws {
        let result = try StageHarness.shell("{ echo short; head -c 300000 /dev/zero | tr '\\0' x; echo; echo 'tiny but long'; echo end; } | weir-from-lines --max-line-bytes 10 --errors skip --stats")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#""short""#, #""end""#])
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 4 && stats["written"] == 2 && stats["rejected"] == 2, "\(result.stderr)")
    }

    @Test("endless input | head -1 ends at once, quietly")
    func stopsWithItsConsumer() throws {
        let start = Date()
        let result = try StageHarness.shell("yes 'a line' | weir-from-lines | head -1")
        #expect(result.lines == [#""a line""#])
        #expect(!result.stderr.contains("weir-from-lines"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
