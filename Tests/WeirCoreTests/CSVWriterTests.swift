import Testing
@testable import WeirCore
import WeirTestSupport

/// Flattening records and writing CSV rows.
@Suite struct CSVWriterTests {
    func flatten(_ json: String, depth: Int = .max) throws -> [String] {
        var flattener = CSVRecordFlattener(maxDepth: depth)
        let bytes = Array(json.utf8)
        try bytes.withUnsafeBytes { raw in try flattener.flatten(raw) }
        // A flattened object's own entry (for a column named after it) is tested on its own.
        return flattener.entries.filter { $0.memberCount == 0 }.map { "\(flattener.key($0))=\($0.isNull ? "<null>" : flattener.value($0))" }
    }

    @Test func flattening() throws {
        let record = #"{"id": 7, "store": {"city": "Zürich", "geo": {"lat": 47.37, "lon": 8.54}}, "tags": ["a", "b" ], "x": null, "ok": true, "e": {}, "s": "a\"b\\c\n\u00e9\ud83d\ude00"}"#
        #expect(try flatten(record) == [
            "id=7", "store.city=Zürich", "store.geo.lat=47.37", "store.geo.lon=8.54", #"tags=["a","b"]"#, "x=<null>", "ok=true",
            "e={}", "s=a\"b\\c\né😀",
        ])
        #expect(try flatten(record, depth: 1) == [
            "id=7", "store.city=Zürich", #"store.geo={"lat":47.37,"lon":8.54}"#, #"tags=["a","b"]"#, "x=<null>", "ok=true", "e={}",
            "s=a\"b\\c\né😀",
        ])
        #expect(try flatten(#"{"store":{"geo":{ "lat" : 1 }}}"#, depth: 0) == [#"store={"geo":{"lat":1}}"#])
        #expect(try flatten(#"{"n":{"a":{}}}"#) == ["n.a={}"])
        #expect(try flatten(#"{"big":13911860366432393,"f":1.10,"neg":-0.0e+5}"#) == ["big=13911860366432393", "f=1.10", "neg=-0.0e+5"])
    }

    @Test func flatteningRejectsWhatTheParserRejects() {
        for bad in [#"[1]"#, #""x""#, "", "{", #"{"a":01}"#, #"{"a":tru}"#, #"{"a":"\x"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1,}"#,
                    #"{"a":[1,]}"#, #"{"a":1} x"#, #"{"a":{"b":[}}"#, #"{"a":1.}"#, #"{a:1}"#] {
            #expect(throws: JSONError.self, "\(bad)") { try flatten(bad) }
        }
        #expect(throws: JSONError.self) { try flatten(#"{"a":"# + String(repeating: "[", count: 1001) + String(repeating: "]", count: 1001) + "}") }
        var flattener = CSVRecordFlattener()
        #expect(throws: JSONError.self) { try [UInt8]([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]).withUnsafeBytes { raw in try flattener.flatten(raw) } }
    }

    /// Bad JSON text, bare and as values at every level the flattener handles differently
    /// (top level, flattened object, array and object kept as text, key).
    static let badJSONLines: [[UInt8]] = {
        let values: [[UInt8]] = ["1.", "-", "01", "1e", "1e+", "-x", #""\x""#, #""\u12""#, #""\u12x4""#, "\"a\tb\"", "\"a\u{01}\"",
                                 #""abc"#, "nul", "tru", "[1.]", "[1,]", "{\"b\":01}", "{\"b\" 1}", "x"].map { Array($0.utf8) }
        var lines: [[UInt8]] = []
        for value in values + [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22]] {
            lines.append(value)
            lines.append(Array(#"{"a":"#.utf8) + value + Array("}".utf8))
            lines.append(Array(#"{"n":{"a":"#.utf8) + value + Array("}}".utf8))
            lines.append(Array(#"{"n":[0,"#.utf8) + value + Array("]}".utf8))
        }
        lines += [#"{"a":"#, #"{"a""#, "{", #"{"a":1"#, #"{"a":1,"#, #"{"a":1 x"#, #"{"a":1} x"#, #"{"\x":1}"#, #"{"a":{"\u0":1}}"#,
                  #"{"a":{"b":1,}}"#, "{\"a\":" + String(repeating: "[", count: 1001) + String(repeating: "]", count: 1001) + "}",
                  String(repeating: "{\"a\":", count: 1001) + "1" + String(repeating: "}", count: 1001)].map { Array($0.utf8) }
        return lines
    }()

    /// Invalid JSON gets the shared validator's error (message and offset), the same as
    /// weir-cat's, before any complaint about the record not being an object.
    @Test func flatteningReportsBadJSONAsTheValidatorDoes() throws {
        var flattener = CSVRecordFlattener()
        for line in Self.badJSONLines {
            let text = String(decoding: line, as: UTF8.self)
            let expected: JSONError? = line.withUnsafeBytes { raw in
                do throws(JSONError) { try JSONCompactor.validate(raw); return nil } catch { return error }
            }
            let actual: JSONError? = line.withUnsafeBytes { raw in
                do throws(JSONError) { try flattener.flatten(raw); return nil } catch { return error }
            }
            #expect(expected != nil, "\(text)")
            #expect(actual == expected, "\(text)")
        }
        // Valid JSON that is not an object: the flattener's own message.
        for (line, found) in [("[1]", "an array"), ("1.5", "a number"), ("null", "null"), (#""x""#, "a string"), ("true", "a boolean")] {
            let error: JSONError? = Array(line.utf8).withUnsafeBytes { raw in
                do throws(JSONError) { try flattener.flatten(raw); return nil } catch { return error }
            }
            #expect(error == JSONError(offset: 0, message: "a CSV row needs a JSON object, found \(found)"), "\(line)")
        }
    }

    /// JSONTestSuite: a value the strict parser accepts is accepted inside a record, and one it rejects is rejected.
    @Test(.needsTestData("JSONTestSuite")) func flatteningAgreesWithTheParserOnJSONTestSuite() throws {
        let folder = sharedTestData("JSONTestSuite/test_parsing")
        let names = listDirectory(folder).filter { $0.hasPrefix("y_") || $0.hasPrefix("n_") }
        #expect(names.count > 200)
        for name in names {
            guard let value = readFileBytes(folder + "/" + name) else { continue }
            let parserAccepts = (try? JSONParser.parse(value)) != nil
            var flattener = CSVRecordFlattener(maxDepth: 0)
            let record = Array(#"{"v":"#.utf8) + value + Array("}".utf8)
            let accepted = (try? record.withUnsafeBytes { raw in try flattener.flatten(raw) }) != nil
            // Wrapping can turn some rejected texts into valid records (e.g. a lone `}`-prefixed tail); only compare clean cases.
            if parserAccepts { #expect(accepted, "\(name)") }
        }
    }

    @Test func minimalQuoting() {
        let writer = CSVFieldWriter()
        func field(_ text: String, _ writer: CSVFieldWriter = CSVFieldWriter()) -> String {
            var output: [UInt8] = []
            writer.appendField(Array(text.utf8), into: &output)
            return String(decoding: output, as: UTF8.self)
        }
        #expect(field("plain") == "plain")
        #expect(field("a,b") == "\"a,b\"")
        #expect(field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(field("line\nbreak") == "\"line\nbreak\"")
        #expect(field("cr\r") == "\"cr\r\"")
        #expect(field(" lead") == "\" lead\"")
        #expect(field("trail\t") == "\"trail\t\"")
        #expect(field("in side") == "in side")
        #expect(field("") == "")
        #expect(field("x", CSVFieldWriter(quoteAll: true)) == "\"x\"")
        #expect(field("a,b", CSVFieldWriter(dialect: .tsv)) == "a,b")
        #expect(field("a\tb", CSVFieldWriter(dialect: .tsv)) == "\"a\tb\"")
        _ = writer
    }

    @Test func tableFromFirstRecordKeys() {
        let result = writeCSV([
            #"{"id":1,"name":"Ann, B.","store":{"city":"Zürich","zip":"00742"},"tags":["x"],"n":null,"ok":false}"#,
            #"{"name":"Bo","id":2,"ok":true}"#,
        ])
        #expect(result.errors.isEmpty)
        #expect(result.csv == """
            id,name,store.city,store.zip,tags,n,ok
            1,"Ann, B.",Zürich,00742,"[""x""]",,false
            2,Bo,,,,,true

            """)
    }

    @Test func newKeysPolicies() {
        let lines = [#"{"a":1}"#, #"{"a":2,"b":3}"#, #"{"c":4,"a":5}"#]
        let failing = writeCSV(lines)
        #expect(failing.csv == "a\n1\n")
        #expect(failing.errors.count == 2)
        #expect(failing.errors[0].contains(#"key "b" is not a column"#))
        #expect(writeCSV(lines, options: { var o = CSVTableOptions(); o.newKeys = .ignore; return o }()).csv == "a\n1\n2\n5\n")
        let appended = writeCSV(lines, options: { var o = CSVTableOptions(); o.newKeys = .append; return o }())
        #expect(appended.csv == "a\n1\n2,3\n5,,4\n")
        #expect(appended.added == ["b", "c"])
        let given = writeCSV(lines, columns: ["b", "a"], options: { var o = CSVTableOptions(); o.newKeys = .ignore; return o }())
        #expect(given.csv == "b,a\n,1\n3,2\n,5\n")
    }

    @Test func nestedObjectsHaveAnEntryOfTheirOwn() throws {
        var flattener = CSVRecordFlattener()
        let bytes = Array(#"{"a":1,"s": {"c": "x y", "g":{"l":1}},"e":{}}"#.utf8)
        var keys: [String] = [], counts: [Int] = [], text = ""
        try bytes.withUnsafeBytes { raw in
            try flattener.flatten(raw)
            let objects = flattener.entries.indices.filter { flattener.entries[$0].memberCount > 0 }
            keys = objects.map { flattener.key(flattener.entries[$0]) }
            counts = objects.map { flattener.entries[$0].memberCount }
            flattener.materializeObject(objects[0])  // while the record's bytes are there
            text = flattener.value(flattener.entries[objects[0]])
        }
        #expect(keys == ["s", "s.g"])
        #expect(counts == [3, 1])
        #expect(text == #"{"c":"x y","g":{"l":1}}"#)
    }

    @Test func anObjectInAColumnOfItsName() {
        let lines = [#"{"u":{"id":1,"n":"A, B"},"x":2}"#, #"{"u":{}}"#]
        #expect(writeCSV(lines, columns: ["u", "x"]).csv == #"u,x\#n"{""id"":1,""n"":""A, B""}",2\#n{},\#n"#)
        #expect(writeCSV(lines, columns: ["u", "u.id"], options: { var o = CSVTableOptions(); o.newKeys = .ignore; return o }()).csv == #"u,u.id\#n"{""id"":1,""n"":""A, B""}",1\#n{},\#n"#)
        // Its members are written with it, so they are not new keys.
        let strict = writeCSV([lines[0]], columns: ["u", "x"], options: { var o = CSVTableOptions(); o.newKeys = .error; return o }())
        #expect(strict.errors.isEmpty)
    }

    @Test func valuesThatChangeShape() {
        let lines = [#"{"u":{"id":1,"n":"A"}}"#, #"{"u":null}"#, #"{"u":{}}"#, #"{}"#, #"{"u":[1]}"#]
        let failing = writeCSV(lines)
        #expect(failing.csv == "u.id,u.n\n1,A\n,\n,\n,\n")
        #expect(failing.errors == [#"key "u" was an object, with columns u.id, u.n in the header; here it is an array (see --new-keys)"#])
        let appended = writeCSV(lines, options: { var o = CSVTableOptions(); o.newKeys = .append; return o }())
        #expect(appended.csv == "u.id,u.n\n1,A\n,\n,\n,\n,,[1]\n")
        #expect(appended.added == ["u"])
        let ignoring = writeCSV(lines, options: { var o = CSVTableOptions(); o.newKeys = .ignore; return o }())
        #expect(ignoring.csv == "u.id,u.n\n1,A\n,\n,\n,\n,\n")
        // A scalar, null or {} first, an object later: its JSON text in that column.
        #expect(writeCSV([#"{"u":null}"#, #"{"u":{"id":1}}"#, #"{"u":{}}"#, #"{"u":5}"#]).csv == "u\n\"\"\n\"{\"\"id\"\":1}\"\n{}\n5\n")
        #expect(writeCSV([#"{"a":{"b":{"c":1}}}"#, #"{"a":{"b":true}}"#]).errors
            == [#"key "a.b" was an object, with column a.b.c in the header; here it is a boolean (see --new-keys)"#])
    }

    /// A record that fails forgets the columns it added, and their keys are looked up afresh.
    @Test func aFailedRecordAddsNoColumns() {
        let appended = writeCSV([#"{"a":1}"#, #"{"a":2,"b":3,"b":4}"#, #"{"b":5,"a":6}"#, #"{"b":7}"#],
                                options: { var o = CSVTableOptions(); o.newKeys = .append; return o }())
        #expect(appended.csv == "a\n1\n6,5\n,7\n")
        #expect(appended.errors.count == 1)
        #expect(appended.added == ["b"])
    }

    @Test func collisionsAndBadRecords() {
        let result = writeCSV([#"{"a.b":1,"a":{"b":2}}"#, "[1,2]", #"{"a.b":3}"#, "{bad"])
        #expect(result.csv == "a.b\n3\n")
        #expect(result.errors.count == 3)
        #expect(result.errors[0].contains("two values for column \"a.b\""))
        #expect(result.errors[1].contains("needs a JSON object, found an array"))
    }

    @Test func dialectOptions() {
        var options = CSVTableOptions()
        options.dialect = .tsv
        options.crlf = true
        options.header = false
        #expect(writeCSV([#"{"a":"x y","b":"t\tab"}"#], options: options).csv == "x y\t\"t\tab\"\r\n")
        options = CSVTableOptions()
        options.quoteAll = true
        #expect(writeCSV([#"{"a":1,"b":null}"#], options: options).csv == "\"a\",\"b\"\n\"1\",\"\"\n")
    }

    @Test func singleEmptyColumnStaysARow() {
        #expect(writeCSV([#"{"a":""}"#, #"{"a":null}"#, #"{"a":"x"}"#]).csv == "a\n\"\"\n\"\"\nx\n")
    }

    @Test func columnsAreNamedOnce() {
        #expect(CSVTableOptions.parseColumns("a,store.city,b") == .success(["a", "store.city", "b"]))
        #expect(CSVTableOptions.parseColumns("a,b,a") == .failure(CSVUsageError(#"column "a" is named twice"#)))
    }

    @Test func headerOnlyWhenColumnsGivenAndNoRecords() {
        #expect(writeCSV([], columns: ["a", "b,c"]).csv == "a,\"b,c\"\n")
        #expect(writeCSV([]).csv == "")
    }
}
