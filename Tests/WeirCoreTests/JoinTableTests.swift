import Testing
@testable import WeirCore

/// The lookup table of `weir-join`, the matched sets, and the object splicing it writes with.
@Suite struct JoinTableTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func add(_ table: JoinTable, _ record: String, key: String?) {
        let recordBytes = bytes(record)
        recordBytes.withUnsafeBytes { recordBuffer in
            if let key {
                bytes(key).withUnsafeBytes { _ = table.add(recordBuffer, key: $0) }
            } else {
                _ = table.add(recordBuffer, key: nil)
            }
        }
    }

    static func matches(_ table: JoinTable, _ key: String) -> [String] {
        guard let number = bytes(key).withUnsafeBytes({ table.keyNumber($0) }) else { return [] }
        var found: [String] = []
        var index: Int? = table.firstRecord(ofKey: number)
        while let current = index {
            var record: [UInt8] = []
            table.appendRecord(current, to: &record)
            found.append(String(decoding: record, as: UTF8.self))
            index = table.nextMatch(after: current)
        }
        return found
    }

    @Test("records are found by key bytes, duplicates in the order added, unkeyed ones never")
    func findsByKey() {
        let table = JoinTable()
        Self.add(table, "{\"a\":1}", key: "1")
        Self.add(table, "{\"a\":2}", key: "\"x\"")
        Self.add(table, "{\"a\":3}", key: "1")
        Self.add(table, "{\"a\":4}", key: nil)
        Self.add(table, "{\"a\":5}", key: "1")
        #expect(table.recordCount == 5)
        #expect(table.keyCount == 2)
        #expect(table.unkeyedCount == 1)
        #expect(Self.matches(table, "1") == ["{\"a\":1}", "{\"a\":3}", "{\"a\":5}"])
        #expect(Self.matches(table, "\"x\"") == ["{\"a\":2}"])
        #expect(Self.matches(table, "2").isEmpty)
        #expect(Self.matches(table, "").isEmpty)
        #expect(table.keyNumber(ofRecord: 3) == nil)
        #expect(table.keyNumber(ofRecord: 4) == table.keyNumber(ofRecord: 0))
        #expect(table.bytesHeld > 0)
    }

    @Test("100,000 keys survive the table's growth, and keys that share a prefix stay apart")
    func manyKeys() {
        let table = JoinTable()
        for index in 0..<100_000 { Self.add(table, "{\"n\":\(index)}", key: "\"key-\(index)\"") }
        #expect(table.keyCount == 100_000)
        for index in [0, 1, 9, 10, 99_999, 54_321] {
            #expect(Self.matches(table, "\"key-\(index)\"") == ["{\"n\":\(index)}"])
        }
        #expect(Self.matches(table, "\"key-100000\"").isEmpty)
        #expect(Self.matches(table, "\"key-\"").isEmpty)
    }

    @Test("a match set merges by union and counts")
    func matchSet() {
        var left = JoinMatchSet(count: 130)
        var right = JoinMatchSet(count: 130)
        left.insert(0)
        left.insert(64)
        right.insert(129)
        right.insert(64)
        left.formUnion(right)
        #expect(left.count == 3)
        #expect(left.contains(129) && left.contains(0) && !left.contains(1))
    }

    static func merged(_ record: String, _ added: String) throws -> String {
        var output: [UInt8] = []
        var scratch = ObjectEditing.Scratch()
        try bytes(record).withBytes { (recordBuffer) throws(RecordError) in
            try bytes(added).withBytes { (addedBuffer) throws(RecordError) in
                try ObjectEditing.appendMerged(recordBuffer, with: addedBuffer, into: &output, scratch: &scratch)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func setting(_ key: String, _ value: String, in record: String) throws -> String {
        var output: [UInt8] = []
        var scratch = ObjectEditing.Scratch()
        try bytes(record).withBytes { (recordBuffer) throws(RecordError) in
            try bytes(value).withBytes { (valueBuffer) throws(RecordError) in
                try ObjectEditing.appendSettingField(key, to: valueBuffer, in: recordBuffer, into: &output, scratch: &scratch)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    @Test("merging splices bytes as jq's . + $m: the added values win, keys keep their place")
    func merging() throws {
        #expect(try Self.merged(#"{"a":1.10,"b":"x"}"#, #"{"c":2}"#) == #"{"a":1.10,"b":"x","c":2}"#)
        #expect(try Self.merged(#"{"a":1,"b":"x","d":[1]}"#, #"{"b":{"y":[1,2]},"c":3}"#) == #"{"a":1,"b":{"y":[1,2]},"d":[1],"c":3}"#)
        #expect(try Self.merged(#"{}"#, #"{"c":2}"#) == #"{"c":2}"#)
        #expect(try Self.merged(#"{"a":1}"#, #"{}"#) == #"{"a":1}"#)
        #expect(try Self.merged(#" { "a" : "}" , "b":[ "]" ] } "#, #"{"b":0}"#) == #" { "a" : "}" , "b":0}"#)
        #expect(try Self.merged(#"{"s":"q\"uote","a":1}"#, #"{"a":2}"#) == #"{"s":"q\"uote","a":2}"#)
        // An escaped key is the same key: parsed and merged by value.
        #expect(try Self.merged(#"{"\u0061":1,"b":2}"#, #"{"a":3}"#) == #"{"a":3,"b":2}"#)
        #expect(throws: RecordError.self) { try Self.merged("[1]", #"{"a":1}"#) }
        #expect(throws: RecordError.self) { try Self.merged(#"{"a":1}"#, "2") }
    }

    @Test("setting a field appends it, or replaces it in place (as .FIELD = v)")
    func settingAField() throws {
        #expect(try Self.setting("m", #"{"x":1}"#, in: #"{"a":1}"#) == #"{"a":1,"m":{"x":1}}"#)
        #expect(try Self.setting("m", "null", in: #"{ }"#) == #"{"m":null}"#)
        #expect(try Self.setting("m", "2", in: #"{"m":1,"z":0}"#) == #"{"m":2,"z":0}"#)
        #expect(try Self.setting("m", "2", in: #"{"n":"has \"m\" in it"}"#) == #"{"n":"has \"m\" in it","m":2}"#)
        #expect(try Self.setting("m", "2", in: #"{"\u006d":1}"#) == #"{"m":2}"#)
        #expect(throws: RecordError.self) { try Self.setting("m", "2", in: #""text""#) }
    }

    @Test("members of an object text: keys and values as byte ranges")
    func members() {
        var members: [ObjectEditing.Member] = []
        let text = Self.bytes(#"{"a":[1,{"b":"}"}],"c" : true }"#)
        let layout = text.withUnsafeBytes { ObjectEditing.scanMembers(of: $0, into: &members) }
        #expect(layout?.close == text.count - 1)
        #expect(members.map { String(decoding: text[$0.key], as: UTF8.self) } == [#""a""#, #""c""#])
        #expect(members.map { String(decoding: text[$0.value], as: UTF8.self) } == [#"[1,{"b":"}"}]"#, "true"])
        #expect(Self.bytes("[]").withUnsafeBytes { ObjectEditing.scanMembers(of: $0, into: &members) } == nil)
        // String values with escaped quotes and runs of backslashes before a quote.
        for (value, tail) in [(#""a\"b,}""#, "1"), (#""\\""#, "2"), (#""x\\\"y\\""#, "3"), (#""""#, "4"), (#""\\\\\"}""#, "5")] {
            let object = Self.bytes(#"{"v":"# + value + #","w":"# + tail + "}")
            let found = object.withUnsafeBytes { ObjectEditing.scanMembers(of: $0, into: &members) }
            #expect(found?.close == object.count - 1, "\(value)")
            #expect(members.map { String(decoding: object[$0.value], as: UTF8.self) } == [value, tail], "\(value)")
        }
    }
}
