import Testing
import WeirCore
@testable import WeirExpression

/// ``GroupingKey``: equal text exactly for values jq's `==` calls equal (on the cases that matter).
@Suite struct GroupingKeyTests {
    private func keyBytes(_ json: String) throws -> [UInt8] {
        var output: [UInt8] = []
        GroupingKey.write(try JSONParser.parse(json), into: &output)
        return output
    }

    private func key(_ json: String) throws -> String { String(decoding: try keyBytes(json), as: UTF8.self) }

    @Test func equalValuesHaveTheSameText() throws {
        #expect(try key("1") == key("1.0"))
        #expect(try key("1") == key("1e0"))
        #expect(try key("100") == key("1E2"))
        #expect(try key("0") == key("-0"))
        #expect(try key("{\"a\":1,\"b\":[2,{\"c\":3.0}]}") == key("{\"b\":[2.0,{\"c\":3}],\"a\":1}"))
        #expect(try key("\"x\"") == "\"x\"")
        #expect(try key("null") == "null")
    }

    @Test func differentValuesHaveDifferentText() throws {
        #expect(try key("1") != key("\"1\""))
        #expect(try key("12345678901234567890") != key("12345678901234567891"))
        #expect(try key("[1,2]") != key("[2,1]"))
        #expect(try key("{\"a\":1}") != key("{\"a\":1,\"b\":null}"))
        #expect(try key("null") != key("false"))
        // Canonically equivalent spellings stay different, as in jq (Swift's String == would merge them).
        #expect(try keyBytes("\"\\u00e9\"") != keyBytes("\"e\\u0301\""))
    }

    @Test func keyTextIsOneLineWithoutTabs() throws {
        let text = try key("{\"a\":\"tab\\there\\nnewline\"}")
        #expect(!text.contains("\t") && !text.contains("\n"))
    }
}
