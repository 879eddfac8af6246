import Testing
@testable import WeirCore

/// Hand-picked cases for ``JSONParser``, ``JSONCompactor``, ``JSONWriter`` and ``JSONNumber``.
@Suite struct JSONParserTests {
    // MARK: - Deep nesting

    static let deepArrays = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
    static let tooDeep = JSONError(offset: 1000, message: "nesting deeper than 1000 levels")

    @Test func deepNestingIsAnErrorForTheParser() {
        #expect(parseBytes(Self.deepArrays).failure == Self.tooDeep)
        #expect(parseBytes(Array(String(repeating: "{\"a\":", count: 100_000).utf8)).failure?.message == Self.tooDeep.message)
    }

    @Test func deepNestingIsAnErrorForTheCompactorAndValidator() {
        #expect(compactBytes(Self.deepArrays).failure == Self.tooDeep)
        #expect(validateBytes(Self.deepArrays).failure == Self.tooDeep)
        let closed = Self.deepArrays + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(compactBytes(closed).failure == Self.tooDeep)
    }

    @Test func deepNestingIsAnErrorForTheProjection() {
        var tree = JSONPathTree.none
        tree.insert(["a"])
        #expect(parseBytes(Self.deepArrays, keeping: tree).failure == Self.tooDeep)
        // Below a kept key and below a skipped key.
        let kept = Array("{\"a\":".utf8) + Self.deepArrays
        let skipped = Array("{\"b\":".utf8) + Self.deepArrays
        #expect(parseBytes(kept, keeping: tree).failure == JSONError(offset: 1004, message: Self.tooDeep.message))
        #expect(parseBytes(skipped, keeping: tree).failure == JSONError(offset: 1004, message: Self.tooDeep.message))
        #expect(parseBytes(skipped).failure == JSONError(offset: 1004, message: Self.tooDeep.message))
    }

    @Test func deepNestingThroughTheSplitter() {
        for splitArrays in [true, false] {
            var splitter = JSONTextSplitter(splitTopLevelArrays: splitArrays)
            let output = Self.deepArrays.withUnsafeBytes { splitter.split($0, isEndOfInput: true) }
            #expect(output.failure == nil)
            #expect(output.records.count == 1)
            let record = Array(Self.deepArrays[output.records[0].range])
            #expect(compactBytes(record).failure?.message == Self.tooDeep.message)
        }
    }

    @Test func nestingLimitIsExact() {
        let atLimit = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(parseBytes(Array(atLimit.utf8)).failure == nil)
        #expect(compactBytes(Array(atLimit.utf8)).failure == nil)
        #expect(parseBytes(Array("[[[]]]".utf8), maxDepth: 2).failure == JSONError(offset: 2, message: "nesting deeper than 2 levels"))
        #expect(compactBytes(Array("[[[]]]".utf8), maxDepth: 2).failure == JSONError(offset: 2, message: "nesting deeper than 2 levels"))
        #expect(parseBytes(Array("[[]]".utf8), maxDepth: 2).failure == nil)
    }

    /// The writer holds a record to what the reader accepts, so the next stage can read it.
    @Test func theWriterRefusesWhatTheReaderWouldRefuse() throws {
        let limit = JSONParser.defaultMaxDepth
        let atLimit = try JSONParser.parse(Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8))
        var output = Array("x".utf8)
        #expect(JSONWriter.write(atLimit, maxDepth: limit, into: &output))
        #expect(output.count == 1 + 2 * limit)
        var tooDeep = JSONValue.object(JSONObject([("a", atLimit)]))
        tooDeep = .array([.number(1), tooDeep])
        output = Array("x".utf8)
        #expect(!JSONWriter.write(tooDeep, maxDepth: limit, into: &output))
        #expect(output == Array("x".utf8), "a refused value leaves nothing behind")
        #expect(JSONWriter.write(tooDeep, maxDepth: limit + 2, into: &output))
        #expect(JSONWriter.write(.string("s"), maxDepth: 0, into: &output))
        #expect(!JSONWriter.write(.array([]), maxDepth: 0, into: &output))
    }

    // MARK: - Errors

    @Test(arguments: [
        ("", 0, "unexpected end of input, expected a value"),
        ("  ", 2, "unexpected end of input, expected a value"),
        ("[1,]", 3, "unexpected ']', expected a value"),
        ("{\"a\" 1}", 5, "unexpected '1', expected ':' after an object key"),
        ("{\"a\":1,}", 7, "unexpected '}', expected a string key"),
        ("[1 2]", 3, "unexpected '2', expected ',' or ']' after an array element"),
        ("{\"a\":1 \"b\":2}", 7, "unexpected '\"', expected ',' or '}' after an object value"),
        ("01", 1, "leading zeros are not allowed in a number"),
        ("1.", 2, "unexpected end of input, expected a digit after the decimal point"),
        ("1e+", 3, "unexpected end of input, expected a digit in the exponent"),
        ("-", 1, "unexpected end of input, expected a digit"),
        ("tru", 3, "unexpected end of input, expected 'true'"),
        ("nul1", 3, "unexpected '1', expected 'null'"),
        ("\"a\\x\"", 2, "invalid escape \\'x', expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u"),
        ("\"\\u12G4\"", 5, "unexpected 'G', expected four hex digits after '\\u'"),
        ("\"a\tb\"", 2, "unescaped control character byte 0x09 in a string"),
        ("\"abc", 4, "unexpected end of input, expected '\"' to close the string"),
        ("1 2", 2, "unexpected '2', expected end of input after the JSON value"),
        ("{} x", 3, "unexpected 'x', expected end of input after the JSON value"),
    ])
    func errorsSayWhatAndWhere(_ text: String, _ offset: Int, _ message: String) {
        let expected = JSONError(offset: offset, message: message)
        let input = Array(text.utf8)
        #expect(parseBytes(input).failure == expected)
        #expect(compactBytes(input).failure == expected)
        #expect(validateBytes(input).failure == expected)
        #expect(parseBytes(input, keeping: .none).failure == expected)
    }

    @Test func compactorRestoresOutputOnError() {
        var output = Array("kept".utf8)
        let result = capture { () throws(JSONError) in try JSONCompactor.compact(Array("[1, 2".utf8), into: &output) }
        #expect(result.failure != nil)
        #expect(output == Array("kept".utf8))
        _ = capture { () throws(JSONError) in try JSONCompactor.compact(Array(" [1, 2] ".utf8), into: &output) }
        #expect(String(decoding: output, as: UTF8.self) == "kept[1,2]")
    }

    // MARK: - Literal preservation

    @Test(arguments: ["12345678901234567890", "1.10", "-0", "1E400", "\"\\u00e9\"", "-0.0e-0", "[1.10,{\"k\\/\":\"\\u00E9\\ud83d\\ude00\"}]", "\"é😀\""])
    func compactorCopiesLiteralsVerbatim(_ text: String) {
        #expect(compactBytes(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) } == .success(text))
        let spaced = "\n\t [ " + text + " ] \r\n"
        #expect(compactBytes(Array(spaced.utf8)).map { String(decoding: $0, as: UTF8.self) } == .success("[" + text + "]"))
    }

    @Test func parserKeepsNumberLiterals() throws {
        for literal in ["12345678901234567890", "1.10", "-0", "1E400", "0.1e-2", "-123.456E+7"] {
            let value = try JSONParser.parse(literal)
            guard case .number(let number) = value else { Issue.record("not a number: \(literal)"); continue }
            #expect(number.literal == literal)
            #expect(JSONWriter.string(value) == literal)
        }
        #expect(try JSONParser.parse("\"\\u00e9\"") == .string("é"))
        #expect(JSONWriter.string(try JSONParser.parse("\"\\u00e9\"")) == "\"é\"")
    }

    @Test func numberDoublesAreCorrectlyRounded() throws {
        for literal in ["0.1", "0.3", "1.7976931348623157e308", "5e-324", "2.2250738585072014e-308", "9007199254740993",
                        "123456789012345678", "0.000001", "1e23", "8.98846567431158e307", "4.9406564584124654e-324",
                        "2.4703282292062327e-324", "1.00000000000000011102230246251565404236316680908203125", "-12.5e-1"] {
            guard case .number(let number) = try JSONParser.parse(literal) else { Issue.record("not a number"); continue }
            #expect(number.double == Double(literal)!, "\(literal)")
        }
        guard case .number(let huge) = try JSONParser.parse("1E400"), case .number(let tiny) = try JSONParser.parse("-1e-400") else { return }
        #expect(huge.double == .infinity)
        #expect(tiny.double == 0 && tiny.double.sign == .minus)
        #expect(JSONNumber(literal: "1E400").double == .infinity)
    }

    // MARK: - Number formatting (jq 1.7)

    @Test(arguments: [
        (3.0, "3"), (0.1 + 0.2, "0.30000000000000004"), (1e300, "1e+300"), (1.5e-7, "1.5e-07"), (.nan, "null"),
        (-0.0, "-0"), (0.0, "0"), (-3.0, "-3"), (0.5, "0.5"), (100.0, "100"), (1e-5, "1e-05"), (0.0001, "0.0001"),
        (0.001, "0.001"), (1e16, "1e+16"), (1.5e16, "15000000000000000"), (123e15, "123000000000000000"),
        (1e17, "1e+17"), (12345678901234567, "12345678901234568"), (1e20, "1e+20"), (1.0 / 3.0, "0.3333333333333333"),
        (2e-318, "2e-318"), (.infinity, "1.7976931348623157e+308"), (-.infinity, "-1.7976931348623157e+308"),
        (123456789012, "123456789012"), (-1.25e-10, "-1.25e-10"), (1e21, "1e+21"), (9007199254740993, "9007199254740992"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (5e-324, "5e-324"), (123.456, "123.456"), (1e15, "1000000000000000"),
    ] as [(Double, String)])
    func formatsComputedDoublesAsJq(_ double: Double, _ text: String) {
        #expect(JSONNumber.format(double) == text)
        #expect(JSONWriter.string(.number(double)) == text)
    }

    // MARK: - Writer

    @Test func writerEscapesWhatItMust() {
        let value = JSONValue.string("a\"b\\c/\n\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}é😀\u{2028}\u{0}")
        #expect(JSONWriter.string(value) == "\"a\\\"b\\\\c/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007fé😀\u{2028}\\u0000\"")
        let object = JSONValue.object(JSONObject([("b", .number(1)), ("a", .array([.null, .bool(true), .bool(false)])), ("", .object(JSONObject()))]))
        #expect(JSONWriter.string(object) == "{\"b\":1,\"a\":[null,true,false],\"\":{}}")
        #expect(JSONWriter.string(.array([])) == "[]")
    }

    @Test func duplicateKeysKeepFirstPositionAndLastValue() throws {
        let value = try JSONParser.parse("{\"a\":1,\"b\":2,\"a\":3,\"\\u0061\":4}")
        #expect(JSONWriter.string(value) == "{\"a\":4,\"b\":2}")
        // Many keys (past the object's index threshold), with duplicates among them.
        var text = "{"
        for index in 0..<60 { text += "\"k\(index % 40)\":\(index)," }
        text += "\"last\":0}"
        guard case .object(let object) = try JSONParser.parse(text) else { Issue.record("not an object"); return }
        #expect(object.count == 41)
        #expect(object["k0"] == .number(40))
        #expect(object["k39"] == .number(39))
        #expect(object.keys.first == "k0")
        #expect(object.keys.last == "last")
    }

    @Test func duplicateKeysAreComparedByteForByte() throws {
        // Canonically equivalent keys of the same length (combining marks in two orders) stay two keys.
        let text = "{\"xxxxxxxxa\u{301}\u{323}yyyyyyyy\":1,\"xxxxxxxxa\u{323}\u{301}yyyyyyyy\":2}"
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    /// Found by `bin/fuzz json`: `{"é" (NFD):…,"é" (NFC):…}` was not `==` to itself, because the
    /// object looked keys up with Swift's `==` (canonical equivalence) and found the NFD key for
    /// the NFC one. Lookups, equality and strings now go by bytes, as in jq.
    @Test func canonicallyEquivalentKeysAndStringsAreDifferent() throws {
        let nfd = "e\u{301}", nfc = "\u{e9}"
        for padding in [0, 30] {  // below and past the object's index threshold
            let extra = (0..<padding).map { ",\"k\($0)\":\($0)" }.joined()
            let value = try JSONParser.parse("{\"\(nfd)\":\"NFD\",\"\(nfc)\":\"NFC\"\(extra)}")
            guard case .object(var object) = value else { Issue.record("not an object"); return }
            #expect(value == value)
            #expect(object.count == 2 + padding)
            #expect(object[nfd] == .string("NFD"))
            #expect(object[nfc] == .string("NFC"))
            #expect(object.position(of: nfc) == 1)
            object[nfc] = .number(1)
            #expect(object[nfd] == .string("NFD"))
            object[nfd] = nil
            #expect(object.keys.first == nfc && object[nfc] == .number(1))
            #expect(object[nfd] == nil)
        }
        #expect(JSONValue.string(nfd) != JSONValue.string(nfc))
        #expect(JSONValue.string(nfc) == JSONValue.string("\u{e9}"))
        #expect(JSONValue.object(JSONObject([(nfd, .null)])) != JSONValue.object(JSONObject([(nfc, .null)])))
    }

    @Test func workStackMovesFramesOut() {
        var stack = JSONWorkStack<String>()
        for index in 0..<100 { stack.append("value number \(index)") }
        #expect(stack.count == 100)
        let top = stack.popArray(from: 60)
        #expect(top == (60..<100).map { "value number \($0)" })
        stack.replace(at: 0, with: "first")
        #expect(stack[0] == "first")
        stack.removeAll(from: 10)
        #expect(stack.count == 10)
        #expect(stack.popArray(from: 10).isEmpty)
    }

    @Test func surrogatePairsAndEscapesDecode() throws {
        #expect(try JSONParser.parse("\"\\ud83d\\ude00\\u00e9\\n\\/\\\\\\\"\\b\\f\\r\\t\"") == .string("😀é\n/\\\"\u{08}\u{0C}\r\t"))
        #expect(try JSONParser.parse("\"\\uD834\\uDD1E\"") == .string("\u{1D11E}"))
        #expect(try JSONParser.parse("\"x\\uD834\"") == .string("x\u{FFFD}"))
        #expect(try JSONParser.parse("\"\\uDD1E\\uD834\\uDD1E\"") == .string("\u{FFFD}\u{1D11E}"))
        #expect(try JSONParser.parse("\"\\u0000\"") == .string("\u{0}"))
    }

    @Test func stringsOfEveryLengthAroundTheWordScan() throws {
        // The string scan reads 8 bytes at a time: put the special byte at every position.
        for length in 0..<40 {
            for special in ["\\n", "é", "\"", "\u{01}"] {
                let body = String(repeating: "a", count: length) + special + String(repeating: "b", count: 40 - length)
                let text = Array("\"\(body)\"".utf8)
                let parsed = parseBytes(text)
                let compacted = compactBytes(text)
                #expect(parsed.failure == compacted.failure)
                switch special {
                case "\\n": #expect(parsed.map { $0 == .string(String(repeating: "a", count: length) + "\n" + String(repeating: "b", count: 40 - length)) } == .success(true))
                case "é": #expect(compacted.map { $0 == text } == .success(true))
                case "\"": #expect(parsed.failure?.offset == length + 2)
                default: #expect(parsed.failure?.offset == length + 1)
                }
            }
        }
    }
}

@Suite struct JSONOrderTests {
    @Test func bigIntegerLiteralsCompareByTheirDigits() throws {
        let a = try JSONParser.parse("12345678901234567890"), b = try JSONParser.parse("12345678901234567891")
        #expect(a != b)
        #expect(a < b)
    }
}
