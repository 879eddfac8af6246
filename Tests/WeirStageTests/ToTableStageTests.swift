import Foundation
import Testing
import WeirCore

/// `weir-to-table` through real pipes and a real terminal (a pty from script(1)).
@Suite struct ToTableStageTests {
    static let records = [
        #"{"id":1,"name":"Zoë","city":"東京都","price":12.5,"ok":true,"tags":["a","b"]}"#,
        #"{"id":22,"name":"emoji 😀👍","city":"Lyon","price":3,"ok":false,"note":null}"#,
        #"{"id":333,"name":"e\u0301 combining","city":"서울","price":-0.25}"#,
    ].joined(separator: "\n") + "\n"

    /// Runs `command` on a pseudo-terminal of `columns` columns (script(1)), with `environment`.
    func onTerminal(_ command: String, input: String, columns: Int = 80, environment: String = "") throws -> String {
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputPath = directory.appendingPathComponent("input.ndjson").path
        try Data(input.utf8).write(to: URL(fileURLWithPath: inputPath))
        let inner = "stty cols \(columns) rows 40; \(environment) \(command) < \(inputPath)"
        let result = try StageHarness.shell("script -qec \"\(inner)\" /dev/null", environment: ["NO_COLOR": "", "COLUMNS": ""])
        #expect(result.status == 0, "\(result.stderr)")
        return result.text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// The display column where each line's text after `marker` column starts: all equal when aligned.
    func columnStarts(_ text: String, column index: Int) -> Set<Int> {
        var starts: Set<Int> = []
        for line in text.split(separator: "\n") {
            // Cells are two spaces apart; a cell holds no two spaces in a row here.
            let cells = line.components(separatedBy: "  ").filter { !$0.isEmpty }
            guard cells.count > index, let range = line.range(of: "  " + cells[index]) else { continue }
            starts.insert(DisplayWidth.of(line[..<range.lowerBound]) + 2 + (DisplayWidth.of(cells[index]) - DisplayWidth.of(cells[index].trimmingCharacters(in: .whitespaces))))
        }
        return starts
    }

    @Test("aligned under a header by display width, numbers right-aligned, no colours in a pipe")
    func plain() throws {
        let result = try StageHarness.shell("weir-to-table", input: Self.records)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [
            " id  name         city    price  ok     tags       note",
            "  1  Zoë          東京都   12.5  true   [\"a\",\"b\"]",
            " 22  emoji 😀👍   Lyon        3  false",
            "333  é combining  서울    -0.25",
        ])
        #expect(!result.text.contains("\u{1B}"))
        #expect(columnStarts(result.text, column: 2).count == 1, "\(result.text)")
        #expect(result.lines.allSatisfy { !$0.hasSuffix(" ") })
    }

    @Test("--markdown writes a GitHub table; | is escaped")
    func markdown() throws {
        let result = try StageHarness.shell("weir-to-table --markdown --columns name,price", input: Self.records + #"{"name":"a|b","price":1}"# + "\n")
        #expect(result.lines == [
            "| name        | price |",
            "| ----------- | ----: |",
            "| Zoë         |  12.5 |",
            "| emoji 😀👍  |     3 |",
            "| é combining | -0.25 |",
            "| a\\|b        |     1 |",
        ])
    }

    @Test("widths come from the window; later longer values are cut with …, numbers are not; a new key is noted")
    func window() throws {
        let input = #"{"k":"ab","n":1}"# + "\n" + #"{"k":"東京都庁","n":123456,"extra":1}"# + "\n" + #"{"k":"abcdef"}"# + "\n"
        let result = try StageHarness.shell("weir-to-table --window 1", input: input)
        #expect(result.status == 0)
        #expect(result.lines == ["k   n", "ab  1", "…   123456", "a…"])
        #expect(result.stderr.contains("note: key \"extra\" is not shown"), "\(result.stderr)")
        let wide = try StageHarness.shell("weir-to-table --window 1 --columns k", input: #"{"k":"東京"}"# + "\n" + #"{"k":"東京都庁"}"# + "\n")
        #expect(wide.lines == ["k", "東京", "東…"])
    }

    @Test("--max-width caps every column; --width fits the table into N columns")
    func widths() throws {
        let capped = try StageHarness.shell("weir-to-table --max-width 6", input: Self.records)
        #expect(capped.lines.first == " id  name    city    price  ok     tags    note")
        #expect(capped.lines.contains("  1  Zoë     東京都   12.5  true   [\"a\",…"))
        let fitted = try StageHarness.shell("weir-to-table --width 40", input: Self.records)
        #expect(fitted.lines.allSatisfy { DisplayWidth.of($0) <= 40 }, "\(fitted.text)")
        #expect(fitted.lines.map { DisplayWidth.of($0) }.max() == 40, "\(fitted.text)")
    }

    @Test("control characters never reach the terminal raw")
    func escapes() throws {
        let result = try StageHarness.shell("weir-to-table", input: #"{"v":"\u001b[2J\u001b]0;title\u0007 \u009b\u202e x","k\nk":1}"# + "\n")
        let shown = #"\u001b[2J\u001b]0;title\u0007 \u009b\u202e x"#
        #expect(result.lines == ["v" + String(repeating: " ", count: shown.count + 1) + #"k\nk"#, shown + "     1"])
        #expect(!result.text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

    @Test("--color always colours anywhere; on a terminal auto colours, NO_COLOR and --color never turn it off")
    func colors() throws {
        let always = try StageHarness.shell("weir-to-table --color always", input: #"{"s":"x","n":1,"b":true}"# + "\n")
        let escape = "\u{1B}["
        let header = "\(escape)1ms\(escape)0m  \(escape)1mn\(escape)0m  \(escape)1mb\(escape)0m"
        let row = "x  \(escape)36m1\(escape)0m  \(escape)33mtrue\(escape)0m"
        #expect(always.lines == [header, row])
        let noColor = try StageHarness.shell("weir-to-table --color always", input: #"{"s":"x"}"# + "\n", environment: ["NO_COLOR": "1"])
        #expect(noColor.text.contains("\u{1B}["), "an explicit --color always outranks NO_COLOR")
        let terminal = try onTerminal("weir-to-table", input: #"{"s":"x","n":1}"# + "\n")
        #expect(terminal.contains("\u{1B}[36m1\u{1B}[0m"), "\(terminal)")
        let disabled = try onTerminal("weir-to-table", input: #"{"s":"x","n":1}"# + "\n", environment: "NO_COLOR=1")
        #expect(disabled == "s  n\nx  1\n")
        let emptyNoColor = try onTerminal("weir-to-table", input: #"{"s":"x","n":1}"# + "\n", environment: "NO_COLOR=")
        #expect(emptyNoColor.contains("\u{1B}[36m"), "an empty NO_COLOR is unset")
        let never = try onTerminal("weir-to-table --color never", input: #"{"s":"x","n":1}"# + "\n")
        #expect(never == "s  n\nx  1\n")
        let bad = try StageHarness.shell("weir-to-table --color sometimes < /dev/null")
        #expect(bad.status == 2 && bad.stderr.contains("auto, always, never"), "\(bad.stderr)")
    }

    @Test("weir-to-json --pretty follows the same colour rules: auto colours a terminal, NO_COLOR turns it off, always outranks it")
    func prettyJSONColors() throws {
        let input = #"{"n":1}"# + "\n"
        let terminal = try onTerminal("weir-to-json --pretty", input: input)
        #expect(terminal.contains("\u{1B}["), "\(terminal)")
        let disabled = try onTerminal("weir-to-json --pretty", input: input, environment: "NO_COLOR=1")
        #expect(disabled == "{\n  \"n\": 1\n}\n", "\(disabled)")
        let always = try StageHarness.shell("weir-to-json --pretty --color always", input: input, environment: ["NO_COLOR": "1"])
        #expect(always.text.contains("\u{1B}["), "an explicit --color always outranks NO_COLOR")
        let piped = try StageHarness.shell("weir-to-json --pretty", input: input)
        #expect(piped.text == "{\n  \"n\": 1\n}\n")
    }

    @Test("on a terminal the table is fitted to its width (the terminal's size, or COLUMNS)")
    func fitsTheTerminal() throws {
        let wide = String(repeating: "w", count: 100)
        let input = #"{"id":1,"text":"\#(wide)","more":"\#(wide)"}"# + "\n"
        let sized = try onTerminal("weir-to-table --color never", input: input, columns: 50)
        #expect(sized.split(separator: "\n").last.map { DisplayWidth.of($0) } == 50, "\(sized)")
        let columns = try onTerminal("weir-to-table --color never", input: input, columns: 50, environment: "COLUMNS=30")
        #expect(columns.split(separator: "\n").last.map { DisplayWidth.of($0) } == 30, "\(columns)")
        let piped = try StageHarness.shell("weir-to-table", input: input, environment: ["COLUMNS": "30"])
        let unfitted: Int = 2 + 2 + 100 + 2 + 100
        #expect(piped.lines.last?.count == unfitted, "not a terminal: no fitting")
    }

    @Test("a record that is not an object fails after the rows before it are shown")
    func badRecord() throws {
        let result = try StageHarness.shell("weir-to-table", input: #"{"a":1}"# + "\n[1,2]\n" + #"{"a":2}"# + "\n")
        #expect(result.status == 1)
        #expect(result.lines == ["a", "1"])
        #expect(result.stderr.hasPrefix("weir-to-table: <stdin>:2:1: the record is an array, not an object"), "\(result.stderr)")
        let skipped = try StageHarness.shell("weir-to-table --errors skip", input: #"{"a":1}"# + "\n\"x\"\n{oops\n" + #"{"a":2}"# + "\n")
        #expect(skipped.status == 0 && skipped.lines == ["a", "1", "2"])
    }

    @Test("streamed: rows after the window come out while the input is still open; | head ends it")
    func streamed() throws {
        // The producer writes two records and sleeps with the pipe open; it is killed once
        // head has its lines (bash waits for every process of a pipeline).
        let directory = try StageHarness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = """
            cd \(directory.path)
            ( echo $BASHPID > producer.pid; printf '{"n":1}\\n{"n":2}\\n'; exec sleep 30 ) | timeout -s KILL 20 weir-to-table --window 2 | { head -3; kill -KILL $(cat producer.pid); }
            """
        let start = Date()
        let result = try StageHarness.shell(script)
        #expect(result.lines == ["n", "1", "2"])
        #expect(Date().timeIntervalSince(start) < 15, "the first rows waited for the end of input")
        let endless = try StageHarness.shell("weir-seq --forever | weir-to-table | head -5")
        #expect(endless.lines == ["  n", "  1", "  2", "  3", "  4"])
        #expect(endless.stderr.isEmpty, "\(endless.stderr)")
    }
}
