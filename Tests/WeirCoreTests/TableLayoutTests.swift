import Testing
@testable import WeirCore

@Suite struct TableLayoutTests {
    /// The table of `lines` of NDJSON, as text.
    func table(_ lines: [String], columns: [String]? = nil, style: TableStyle = TableStyle(), window: Int = 100) -> String {
        var layout = TableLayout(columns: columns, style: style, window: window)
        var output: [UInt8] = []
        for line in lines {
            guard case .object(let object) = try! JSONParser.parse(line) else { fatalError("not an object: \(line)") }
            layout.add(object, into: &output)
        }
        layout.finish(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    @Test("keys in first-seen order, numbers right, null and missing empty, no trailing spaces")
    func plainTable() {
        let text = table([#"{"a":"x","n":1}"#, #"{"n":22.5,"b":null,"a":"yyyy"}"#, #"{"b":true}"#])
        #expect(text == "a        n  b\nx        1\nyyyy  22.5\n            true\n")
    }

    @Test("nested values are compact JSON unless a dotted column reaches in")
    func nested() {
        let lines = [#"{"id":1,"store":{"city":"Lyon","geo":[4.8,45.7]}}"#]
        #expect(table(lines) == "id  store\n 1  {\"city\":\"Lyon\",\"geo\":[4.8,45.7]}\n")
        #expect(table(lines, columns: ["store.city", "store.geo", "missing"]) == "store.city  store.geo   missing\nLyon        [4.8,45.7]\n")
        // A key that holds a dot is found as it is.
        #expect(table([#"{"a.b":1,"a":{"b":2}}"#], columns: ["a.b"]) == "a.b\n  1\n")
    }

    @Test("control characters, C1 controls and bidi overrides are escaped")
    func escaping() {
        let text = table([#"{"v":"a\nb\t\u001b[31mred\u009b\u202e!"}"#])
        #expect(text == "v\na\\nb\\t\\u001b[31mred\\u009b\\u202e!\n")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B || $0.value == 0x202E })
    }

    @Test("after the window, widths are kept and longer text is cut; numbers are never cut")
    func window() {
        let text = table([#"{"s":"ab","n":1}"#, #"{"s":"abcdef","n":12345}"#, #"{"s":"abc","k":"new"}"#], window: 1)
        #expect(text == "s   n\nab  1\na…  12345\na…\n")
    }

    @Test("wide text aligns by display width")
    func wideText() {
        let text = table([#"{"c":"東京","n":1}"#, #"{"c":"Lyon","n":2}"#, #"{"c":"😀","n":3}"#])
        #expect(text == "c     n\n東京  1\nLyon  2\n😀    3\n")
    }

    @Test("fitting narrows the widest columns first, keeps numbers, and fills the width")
    func fitting() {
        #expect(TableLayout.fitFor(widths: [10, 40, 20], total: 80) == [10, 40, 20])
        let fitted = TableLayout.fitFor(widths: [10, 40, 20], total: 50)
        #expect(fitted.reduce(0, +) + 4 == 50 && fitted[0] == 10 && fitted[1] <= 20 && fitted[2] <= 20)
        #expect(TableLayout.fitFor(widths: [12, 40, 20], total: 30, kept: [true, false, false]) == [12, 7, 7])
        // Floors of 5, then 3; beyond that the lines wrap.
        #expect(TableLayout.fitFor(widths: [20, 20, 20, 20], total: 26) == [5, 5, 5, 5])
        #expect(TableLayout.fitFor(widths: [20, 20, 20, 20], total: 20) == [4, 4, 3, 3])
        #expect(TableLayout.fitFor(widths: [20, 20, 20, 20], total: 10) == [3, 3, 3, 3])
        let text = table([#"{"a":"aaaaaaaaaa","b":"bbbbbbbbbbbbbbbbbbbb"}"#], style: TableStyle(totalWidth: 20))
        #expect(text.split(separator: "\n").allSatisfy { DisplayWidth.of($0) <= 20 }, "\(text)")
        #expect(text == "a          b\naaaaaaaa…  bbbbbbbb…\n")
    }

    @Test("Markdown: pipes escaped, number columns aligned right, nothing cut")
    func markdown() {
        let text = table([#"{"name":"a|b","n":1.5}"#, #"{"name":"a much longer name","n":null}"#], style: TableStyle(markdown: true), window: 1)
        #expect(text == "| name |   n |\n| ---- | --: |\n| a\\|b | 1.5 |\n| a much longer name |     |\n")
        let capped = table([#"{"name":"a much longer name"}"#], style: TableStyle(markdown: true, maxColumnWidth: 6))
        #expect(capped == "| name   |\n| ------ |\n| a muc… |\n")
    }

    @Test("colours: header bold, numbers cyan, booleans yellow, nested dim, padding outside")
    func colors() {
        let text = table([#"{"s":"x","n":1,"b":false,"o":[1]}"#], style: TableStyle(colors: true))
        let escape = "\u{1B}["
        #expect(text == "\(escape)1ms\(escape)0m  \(escape)1mn\(escape)0m  \(escape)1mb\(escape)0m      \(escape)1mo\(escape)0m\nx  \(escape)36m1\(escape)0m  \(escape)33mfalse\(escape)0m  \(escape)2m[1]\(escape)0m\n")
    }

    @Test("an empty input writes nothing; chosen columns still get their header")
    func emptyInput() {
        #expect(table([]) == "")
        #expect(table([], columns: ["a", "b"]) == "a  b\n")
    }
}

extension TableLayout {
    /// ``Layout/fit(_:into:keeping:)`` for tests.
    static func fitFor(widths: [Int], total: Int, kept: [Bool]? = nil) -> [Int] {
        Layout.fit(widths, into: total, keeping: kept ?? widths.map { _ in false })
    }
}
