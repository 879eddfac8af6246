import Testing
@testable import WeirCore

/// ``JSONPrettyPrinter``: `jq .` layout (expected texts written by hand), with and without colours.
@Suite struct JSONPrettyPrinterTests {
    static func pretty(_ text: String, indent: Int = 2, colors: JSONColors? = nil) -> String {
        JSONPrettyPrinter.format(text, indent: indent, colors: colors)
    }

    /// The text without ANSI SGR sequences.
    static func stripColors(_ text: String) -> String {
        var output: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == 0x1B {
                while let next = bytes.popFirst(), next != UInt8(ascii: "m") {}
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static let example = #"{"a":[1,2,{"b":null}],"c":{},"d":[],"e":"x:y\"\\","f":true,"g":[[]],"h":-1.50e3,"é":"😀\u00e9"}"#
    static let exampleLayout = #"""
        {
          "a": [
            1,
            2,
            {
              "b": null
            }
          ],
          "c": {},
          "d": [],
          "e": "x:y\"\\",
          "f": true,
          "g": [
            []
          ],
          "h": -1.50e3,
          "é": "😀\u00e9"
        }
        """#

    @Test func matchesJqLayout() {
        #expect(Self.pretty(Self.example) == Self.exampleLayout)
        #expect(Self.pretty("[{}, \"a\"]", indent: 4) == "[\n    {},\n    \"a\"\n]")
        #expect(Self.pretty("[ ]") == "[]")
        #expect(Self.pretty("{ }") == "{}")
        #expect(Self.pretty("42") == "42")
        #expect(Self.pretty("\"s\"") == "\"s\"")
        #expect(Self.pretty("[[1],[]]") == "[\n  [\n    1\n  ],\n  []\n]")
    }

    @Test func inputWhitespaceIsIgnored() {
        let spaced = " {\n\t\"a\" : [ 1 ,2, { \"b\" :null } ] , \"c\":{ },\"d\":[\r\n],\"e\":\"x:y\\\"\\\\\",\"f\":true,\"g\":[ [ ] ],\"h\":-1.50e3,\"é\":\"😀\\u00e9\"} "
        #expect(Self.pretty(spaced) == Self.exampleLayout)
    }

    @Test func indentZeroIsCompact() {
        #expect(Self.pretty(Self.example, indent: 0) == Self.example)
        #expect(Self.pretty("{ \"a\" : [1, 2] }", indent: 0) == "{\"a\":[1,2]}")
    }

    @Test func colorsOff() {
        #expect(!Self.pretty(Self.example).utf8.contains(0x1B))
    }

    @Test func colorsOnWrapEveryToken() {
        let colored = Self.pretty("{\"a\":[1,null,\"s\",true,false],\"b\":{}}", colors: .jq)
        func c(_ code: String, _ token: String) -> String { "\u{1B}[\(code)m\(token)\u{1B}[0m" }
        let expected = c("1;39", "{") + "\n  " + c("34;1", "\"a\"") + c("1;39", ":") + " " + c("1;39", "[") + "\n    "
            + c("0;39", "1") + c("1;39", ",") + "\n    "
            + c("1;30", "null") + c("1;39", ",") + "\n    "
            + c("0;32", "\"s\"") + c("1;39", ",") + "\n    "
            + c("0;39", "true") + c("1;39", ",") + "\n    "
            + c("0;39", "false") + "\n  "
            + c("1;39", "]") + c("1;39", ",") + "\n  "
            + c("34;1", "\"b\"") + c("1;39", ":") + " " + c("1;39", "{}") + "\n"
            + c("1;39", "}")
        #expect(colored == expected)
        #expect(Self.stripColors(Self.pretty(Self.example, colors: .jq)) == Self.exampleLayout)
        // Custom colours go where they belong: array punctuation vs object punctuation.
        let custom = JSONColors(null: "n", false: "f", true: "t", numbers: "d", strings: "s", arrays: "A", objects: "O", objectKeys: "K")
        #expect(Self.pretty("[{\"k\":\"v\"},2]", indent: 0, colors: custom)
            == c("A", "[") + c("O", "{") + c("K", "\"k\"") + c("O", ":") + c("s", "\"v\"") + c("O", "}") + c("A", ",") + c("d", "2") + c("A", "]"))
    }

    @Test func randomValuesRoundTrip() throws {
        var random = JSONSeededGenerator(seed: 21)
        for _ in 0..<1000 {
            let value = JSONFixtures.randomValue(&random)
            let compact = JSONFixtures.compactText(value)
            var pretty: [UInt8] = []
            compact.withUnsafeBytes { JSONPrettyPrinter.format($0, colors: .jq, into: &pretty) }
            let plain = Self.stripColors(String(decoding: pretty, as: UTF8.self))
            #expect(try JSONParser.parse(plain) == value)
            #expect(!plain.contains(" \n"))  // no trailing spaces
        }
    }

    @Test func invalidInputIsMemorySafe() {
        var random = JSONSeededGenerator(seed: 22)
        for _ in 0..<2000 {
            var bytes = JSONFixtures.compactText(JSONFixtures.randomValue(&random))
            if !bytes.isEmpty { bytes.removeLast(Int.random(in: 0...min(3, bytes.count), using: &random)) }
            bytes.append(contentsOf: [[], [0x5C], [0x22, 0x5C], [0x5D, 0x5D], [0x7D]].randomElement(using: &random)!)
            var output: [UInt8] = []
            bytes.withUnsafeBytes { JSONPrettyPrinter.format($0, into: &output) }
        }
    }
}
