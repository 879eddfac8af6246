import Testing
@testable import WeirCore
import WeirTestSupport

/// JSONTestSuite (`$WEIR_TESTDATA/JSONTestSuite` or `../shared/testdata/JSONTestSuite`; skipped, by name, when absent): every `y_` accepted, every `n_`
/// rejected, by the parser, the compactor and the validator alike; every `i_` and
/// `test_transform` file pinned to what ``JSONParser``'s documentation promises.
@Suite(.needsTestData("JSONTestSuite")) struct JSONConformanceTests {
    static let suiteDirectory = JSONFixtures.testDataDirectory() + "/JSONTestSuite"

    /// The files of one JSONTestSuite folder whose names start with `prefix` (empty when the folder is missing).
    static func files(_ folder: String, prefix: String = "") -> [String] {
        (JSONFixtures.listDirectory(suiteDirectory + "/" + folder) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
    }

    static func bytes(_ folder: String, _ name: String) -> [UInt8] {
        JSONFixtures.readFile(suiteDirectory + "/" + folder + "/" + name) ?? []
    }

    /// The verdicts of all three readers, which must agree (same error too).
    static func verdicts(_ input: [UInt8]) -> (parse: Result<JSONValue, JSONError>, compact: Result<[UInt8], JSONError>, validate: Result<Void, JSONError>) {
        (parseBytes(input), compactBytes(input), validateBytes(input))
    }

    @Test func testDataIsPresent() {
        let parsing = JSONFixtures.listDirectory(Self.suiteDirectory + "/test_parsing")
        let transform = JSONFixtures.listDirectory(Self.suiteDirectory + "/test_transform")
        #expect(parsing != nil, "JSONTestSuite not found at \(Self.suiteDirectory)/test_parsing (WEIR_TESTDATA or ../shared/testdata)")
        #expect(transform != nil, "JSONTestSuite not found at \(Self.suiteDirectory)/test_transform")
        #expect(Self.files("test_parsing", prefix: "y_").count == 95)
        #expect(Self.files("test_parsing", prefix: "n_").count == 188)
        #expect(Self.files("test_parsing", prefix: "i_").count == 35)
        #expect(Self.files("test_transform").count == 22)
    }

    @Test(arguments: files("test_parsing", prefix: "y_"))
    func acceptsValid(_ name: String) {
        let input = Self.bytes("test_parsing", name)
        let (parsed, compacted, validated) = Self.verdicts(input)
        #expect(parsed.failure == nil, "parse rejected \(name): \(parsed.failure!)")
        #expect(compacted.failure == nil, "compact rejected \(name): \(compacted.failure!)")
        #expect(validated.failure == nil, "validate rejected \(name): \(validated.failure!)")
        // The compact text parses to the same value.
        if case .success(let value) = parsed, case .success(let compact) = compacted {
            #expect(parseBytes(compact).map { $0 == value } == .success(true), "\(name): compact form differs")
        }
    }

    @Test(arguments: files("test_parsing", prefix: "n_"))
    func rejectsInvalid(_ name: String) {
        let input = Self.bytes("test_parsing", name)
        let (parsed, compacted, validated) = Self.verdicts(input)
        #expect(parsed.failure != nil, "parse accepted \(name)")
        #expect(compacted.failure != nil, "compact accepted \(name)")
        #expect(validated.failure != nil, "validate accepted \(name)")
        #expect(parsed.failure == compacted.failure, "\(name): parser and compactor disagree")
        #expect(parsed.failure == validated.failure, "\(name): parser and validator disagree")
        if let error = parsed.failure { #expect(error.offset >= 0 && error.offset <= input.count) }
    }

    /// What the implementation-defined files give: nil for an error, else the compact
    /// text of the parsed value (numbers keep their literal, lone surrogate escapes become U+FFFD).
    static let implementationDefined: [String: String?] = [
        "i_number_double_huge_neg_exp.json": "[123.456e-789]",
        "i_number_huge_exp.json": nil,  // filled in from the file: the literal is kept
        "i_number_neg_int_huge_exp.json": "[-1e+9999]",
        "i_number_pos_double_huge_exp.json": "[1.5e+9999]",
        "i_number_real_neg_overflow.json": "[-123123e100000]",
        "i_number_real_pos_overflow.json": "[123123e100000]",
        "i_number_real_underflow.json": "[123e-10000000]",
        "i_number_too_big_neg_int.json": "[-123123123123123123123123123123]",
        "i_number_too_big_pos_int.json": "[100000000000000000000]",
        "i_number_very_big_negative_int.json": "[-237462374673276894279832749832423479823246327846]",
        "i_object_key_lone_2nd_surrogate.json": "{\"\u{FFFD}\":0}",
        "i_string_1st_surrogate_but_2nd_missing.json": "[\"\u{FFFD}\"]",
        "i_string_1st_valid_surrogate_2nd_invalid.json": "[\"\u{FFFD}\u{1234}\"]",
        "i_string_UTF-16LE_with_BOM.json": nil,
        "i_string_UTF-8_invalid_sequence.json": nil,
        "i_string_UTF8_surrogate_U+D800.json": nil,
        "i_string_incomplete_surrogate_and_escape_valid.json": "[\"\u{FFFD}\\n\"]",
        "i_string_incomplete_surrogate_pair.json": "[\"\u{FFFD}a\"]",
        "i_string_incomplete_surrogates_escape_valid.json": "[\"\u{FFFD}\u{FFFD}\\n\"]",
        "i_string_invalid_lonely_surrogate.json": "[\"\u{FFFD}\"]",
        "i_string_invalid_surrogate.json": "[\"\u{FFFD}abc\"]",
        "i_string_invalid_utf-8.json": nil,
        "i_string_inverted_surrogates_U+1D11E.json": "[\"\u{FFFD}\u{FFFD}\"]",
        "i_string_iso_latin_1.json": nil,
        "i_string_lone_second_surrogate.json": "[\"\u{FFFD}\"]",
        "i_string_lone_utf8_continuation_byte.json": nil,
        "i_string_not_in_unicode_range.json": nil,
        "i_string_overlong_sequence_2_bytes.json": nil,
        "i_string_overlong_sequence_6_bytes.json": nil,
        "i_string_overlong_sequence_6_bytes_null.json": nil,
        "i_string_truncated-utf-8.json": nil,
        "i_string_utf16BE_no_BOM.json": nil,
        "i_string_utf16LE_no_BOM.json": nil,
        "i_structure_500_nested_arrays.json": String(repeating: "[", count: 500) + String(repeating: "]", count: 500),
        "i_structure_UTF-8_BOM_empty_object.json": nil,
    ]

    /// Accepted `i_` numbers keep their literal; their double is what the parser's doc promises.
    static let implementationDefinedDoubles: [String: Double] = [
        "i_number_double_huge_neg_exp.json": 0,
        "i_number_huge_exp.json": .infinity,
        "i_number_neg_int_huge_exp.json": -.infinity,
        "i_number_pos_double_huge_exp.json": .infinity,
        "i_number_real_neg_overflow.json": -.infinity,
        "i_number_real_pos_overflow.json": .infinity,
        "i_number_real_underflow.json": 0,
        "i_number_too_big_neg_int.json": -123123123123123123123123123123,
        "i_number_too_big_pos_int.json": 1e20,
        "i_number_very_big_negative_int.json": -237462374673276894279832749832423479823246327846,
    ]

    @Test func everyImplementationDefinedFileIsPinned() {
        #expect(Set(Self.files("test_parsing", prefix: "i_")) == Set(Self.implementationDefined.keys))
    }

    @Test(arguments: files("test_parsing", prefix: "i_"))
    func implementationDefined(_ name: String) throws {
        let input = Self.bytes("test_parsing", name)
        let (parsed, compacted, validated) = Self.verdicts(input)
        let pinned = try #require(Self.implementationDefined[name], "\(name) is not pinned")
        // The three readers always agree on the verdict and the error.
        #expect(parsed.failure == compacted.failure)
        #expect(parsed.failure == validated.failure)
        var expected = pinned
        if name == "i_number_huge_exp.json" {
            expected = String(decoding: input, as: UTF8.self).trimmingWhitespace
        }
        guard let expected else {
            #expect(parsed.failure != nil, "\(name) should be rejected")
            return
        }
        let value = try parsed.get()
        #expect(JSONWriter.string(value) == expected)
        if case .array(let elements) = value, case .number(let number)? = elements.first,
           let double = Self.implementationDefinedDoubles[name] {
            #expect(number.double == double)
            #expect(number.double.sign == double.sign)
        }
        // The compactor copies strings and numbers verbatim: same bytes as the input minus whitespace.
        let compact = try compacted.get()
        #expect(compact == Array(String(decoding: input, as: UTF8.self).trimmingWhitespace.utf8))
    }

    @Test func byteOrderMarkIsNotJSON() {
        let error = parseBytes([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]).failure
        #expect(error == JSONError(offset: 0, message: "unexpected byte 0xEF, expected a value"))
    }

    @Test func invalidUTF8IsReportedAtItsByte() {
        #expect(parseBytes(Array("[\"ab".utf8) + [0xFF] + Array("\"]".utf8)).failure
            == JSONError(offset: 4, message: "invalid UTF-8 byte 0xFF in a string"))
        // Encoded surrogate, overlong and above U+10FFFF: rejected at the lead byte.
        for bad: [UInt8] in [[0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            #expect(parseBytes([0x22] + bad + [0x22]).failure?.offset == 1)
        }
        // Valid boundaries: U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF.
        for good in ["\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}"] {
            #expect(parseBytes(Array("\"\(good)\"".utf8)).map { $0 == .string(good) } == .success(true))
        }
    }

    /// `test_transform`: what each file becomes, through the parser and writer, and through the compactor.
    static let transforms: [String: (parsed: String, compacted: String)] = [
        "number_-9223372036854775808.json": ("[-9223372036854775808]", "[-9223372036854775808]"),
        "number_-9223372036854775809.json": ("[-9223372036854775809]", "[-9223372036854775809]"),
        "number_1.0.json": ("[1.0]", "[1.0]"),
        "number_1.000000000000000005.json": ("[1.000000000000000005]", "[1.000000000000000005]"),
        "number_1000000000000000.json": ("[1000000000000000]", "[1000000000000000]"),
        "number_10000000000000000999.json": ("[10000000000000000999]", "[10000000000000000999]"),
        "number_1e-999.json": ("[1E-999]", "[1E-999]"),
        "number_1e6.json": ("[1E6]", "[1E6]"),
        "number_9223372036854775807.json": ("[9223372036854775807]", "[9223372036854775807]"),
        "number_9223372036854775808.json": ("[9223372036854775808]", "[9223372036854775808]"),
        // Keys are not normalized: NFC and NFD spellings are two keys, in input order.
        "object_key_nfc_nfd.json": ("{\"\u{E9}\":\"NFC\",\"e\u{301}\":\"NFD\"}", "{\"\u{E9}\":\"NFC\",\"e\u{301}\":\"NFD\"}"),
        "object_key_nfd_nfc.json": ("{\"e\u{301}\":\"NFD\",\"\u{E9}\":\"NFC\"}", "{\"e\u{301}\":\"NFD\",\"\u{E9}\":\"NFC\"}"),
        // Duplicate keys: the parser keeps the last value (jq); the compactor copies the text as it is.
        "object_same_key_different_values.json": ("{\"a\":2}", "{\"a\":1,\"a\":2}"),
        "object_same_key_same_value.json": ("{\"a\":1}", "{\"a\":1,\"a\":1}"),
        "object_same_key_unclear_values.json": ("{\"a\":-0}", "{\"a\":0,\"a\":-0}"),
        // Lone surrogate escapes become U+FFFD; encoded surrogates are invalid UTF-8.
        "string_1_escaped_invalid_codepoint.json": ("[\"\u{FFFD}\"]", "[\"\\uD800\"]"),
        "string_2_escaped_invalid_codepoints.json": ("[\"\u{FFFD}\u{FFFD}\"]", "[\"\\uD800\\uD800\"]"),
        "string_3_escaped_invalid_codepoints.json": ("[\"\u{FFFD}\u{FFFD}\u{FFFD}\"]", "[\"\\uD800\\uD800\\uD800\"]"),
        "string_1_invalid_codepoint.json": ("", ""),
        "string_2_invalid_codepoints.json": ("", ""),
        "string_3_invalid_codepoints.json": ("", ""),
        // U+0000 is kept, and written back escaped.
        "string_with_escaped_NULL.json": ("[\"A\\u0000B\"]", "[\"A\\u0000B\"]"),
    ]

    @Test func everyTransformFileIsPinned() {
        #expect(Set(Self.files("test_transform")) == Set(Self.transforms.keys))
    }

    @Test(arguments: files("test_transform"))
    func transform(_ name: String) throws {
        let input = Self.bytes("test_transform", name)
        let pinned = try #require(Self.transforms[name], "\(name) is not pinned")
        let (parsed, compacted, validated) = Self.verdicts(input)
        #expect(parsed.failure == compacted.failure)
        #expect(parsed.failure == validated.failure)
        if pinned.parsed.isEmpty {
            #expect(parsed.failure != nil, "\(name) should be rejected")
            return
        }
        #expect(parsed.map(JSONWriter.string) == .success(pinned.parsed))
        #expect(compacted.map { String(decoding: $0, as: UTF8.self) } == .success(pinned.compacted))
    }

    @Test func transformedNumbersHaveTheirDoubles() throws {
        func double(_ text: String) throws -> Double {
            guard case .array(let elements) = try JSONParser.parse(text), case .number(let number)? = elements.first else {
                throw JSONError(offset: 0, message: "not a number array")
            }
            return number.double
        }
        #expect(try double("[-9223372036854775808]") == -9223372036854775808.0)
        #expect(try double("[1.000000000000000005]") == 1.0)
        #expect(try double("[10000000000000000999]") == 1e19)
        #expect(try double("[1E-999]") == 0)
        #expect(try double("[1E6]") == 1e6)
        #expect(try double("[-0]").sign == .minus)
        // Distinct big integers with the same double stay distinct; equal ones are equal.
        #expect(try JSONParser.parse("9223372036854775808") != JSONParser.parse("9223372036854775809"))
        #expect(try JSONParser.parse("9223372036854775808") == JSONParser.parse("9223372036854775808"))
        #expect(try JSONParser.parse("1E6") == JSONParser.parse("1000000"))
    }
}

extension String {
    /// The string without JSON whitespace at either end.
    var trimmingWhitespace: String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, JSONScan.isWhitespace(bytes[start]) { start += 1 }
        while end > start, JSONScan.isWhitespace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
