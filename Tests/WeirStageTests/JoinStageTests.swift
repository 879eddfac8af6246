import Foundation
import Testing

/// weir-join through real pipes: the modes, keys as jq's ==, duplicate keys, CSV lookups,
/// bad lookup lines, the unmatched-lookup file, --stats and -j.
@Suite struct JoinStageTests {
    /// A temporary folder holding `files` (name → contents).
    static func folder(_ files: [String: String]) throws -> URL {
        let directory = try StageHarness.temporaryDirectory()
        for (name, contents) in files {
            try Data(contents.utf8).write(to: directory.appendingPathComponent(name))
        }
        return directory
    }

    static func run(_ command: String, in directory: URL, input: String) throws -> StageHarness.Result {
        try StageHarness.shell("cd '\(directory.path)' && " + command, input: input)
    }

    static let stores = """
        {"id":1,"city":"Lyon"}
        {"id":2,"city":"Köln","note":"first 2"}
        {"id":2,"city":"Bonn","note":"second 2"}
        {"id":"1","city":"string one"}
        {"city":"no id"}
        {"id":null,"city":"null id"}

        """

    static let stream = """
        {"sku":"A","id":1.0}
        {"sku":"B","id":2,"city":"old"}
        {"sku":"C","id":3}
        {"sku":"D"}
        {"sku":"E","id":"1"}
        {"sku":"F","id":1e0, "extra" : [1,{"id":9}]}

        """

    @Test("inner (the default) merges, lookup values win, first duplicate wins, 1 = 1.0 = 1e0, \"1\" is not 1")
    func innerMerge() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let result = try Self.run("weir-join --with stores.ndjson --on .id", in: directory, input: Self.stream)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [
            #"{"sku":"A","id":1,"city":"Lyon"}"#,
            #"{"sku":"B","id":2,"city":"Köln","note":"first 2"}"#,
            #"{"sku":"E","id":"1","city":"string one"}"#,
            #"{"sku":"F","id":1, "extra" : [1,{"id":9}],"city":"Lyon"}"#,
        ])
    }

    @Test("--many writes one record per match, in lookup order")
    func many() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let result = try Self.run("weir-join --with stores.ndjson --on .id --as store --many --stats", in: directory, input: #"{"id":2}"# + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [
            #"{"id":2,"store":{"id":2,"city":"Köln","note":"first 2"}}"#,
            #"{"id":2,"store":{"id":2,"city":"Bonn","note":"second 2"}}"#,
        ])
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 1 && stats["written"] == 1 && stats["outputs"] == 2)
    }

    @Test("--left keeps unmatched records (missing and null keys too); --as sets FIELD null for them")
    func left() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let merged = try Self.run("weir-join --with stores.ndjson --on .id --left", in: directory, input: Self.stream)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.lines.count == 6)
        #expect(merged.lines[2] == #"{"sku":"C","id":3}"#)
        #expect(merged.lines[3] == #"{"sku":"D"}"#)
        let under = try Self.run("weir-join --with stores.ndjson --on .id --left --as store", in: directory, input: "{\"sku\":\"D\"}\n{\"id\":null}\n{\"id\":1}\n")
        #expect(under.lines == [
            #"{"sku":"D","store":null}"#,
            #"{"id":null,"store":null}"#,
            #"{"id":1,"store":{"id":1,"city":"Lyon"}}"#,
        ])
    }

    @Test("--anti writes only unmatched records, as they came")
    func anti() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let result = try Self.run("weir-join --with stores.ndjson --on .id --anti", in: directory, input: Self.stream)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"sku":"C","id":3}"#, #"{"sku":"D"}"#])
    }

    @Test("object keys equal whatever their order; --key differs from --on")
    func objectKeysAndKeyExpression() throws {
        let directory = try Self.folder(["lookup.ndjson": #"{"k":{"a":1,"b":[1.0,"x"]},"v":"hit"}"# + "\n"])
        let result = try Self.run("weir-join --with lookup.ndjson --on .pair --key .k --as m", in: directory,
                                  input: #"{"pair":{"b":[1,"x"],"a":1.00}}"# + "\n" + #"{"pair":{"b":[1,"y"],"a":1}}"# + "\n")
        #expect(result.lines == [#"{"pair":{"b":[1,"x"],"a":1.00},"m":{"k":{"a":1,"b":[1.0,"x"]},"v":"hit"}}"#])
    }

    @Test("a CSV lookup gives weir-from-csv's records (typing included)")
    func csvLookup() throws {
        let csv = "id,name,zip,price\n1,Lyon,00742,1.10\n2,\"Köln, Dom\",50667,+5\n"
        let directory = try Self.folder(["stores.csv": csv, "stores.data": csv])
        let fromCSV = try Self.run("weir-from-csv stores.csv", in: directory, input: "")
        let joined = try Self.run("weir-join --with stores.csv --on .s --key .id --as store", in: directory, input: "{\"s\":1}\n{\"s\":2}\n")
        #expect(joined.status == 0, "\(joined.stderr)")
        let matches = joined.lines.map { String($0.dropFirst(#"{"s":1,"store":"#.count).dropLast()) }
        #expect(matches == fromCSV.lines)
        #expect(joined.lines[0] == #"{"s":1,"store":{"id":1,"name":"Lyon","zip":"00742","price":1.10}}"#)
        let forced = try Self.run("weir-join --with stores.data --with-format csv --on .s --key .id --as store", in: directory, input: "{\"s\":1}\n{\"s\":2}\n")
        #expect(forced.text == joined.text)
        let tsv = try Self.folder(["stores.tsv": "id\tname\n7\tUtrecht\n"])
        let fromTSV = try Self.run("weir-join --with stores.tsv --on .s --key .id", in: tsv, input: "{\"s\":7}\n")
        #expect(fromTSV.lines == [#"{"s":7,"id":7,"name":"Utrecht"}"#])
    }

    @Test("a bad lookup line names the lookup file and line, exit 1, nothing written")
    func badLookupLine() throws {
        let directory = try Self.folder([
            "bad.ndjson": "{\"id\":1}\n\n{\"id\":2,}\n",
            "bad.csv": "id,name\n1,a\n2,\"b\"x\n",
            "scalar.ndjson": "{\"id\":1}\n7\n",
            "key.ndjson": "{\"id\":1}\n{\"id\":\"x\"}\n",
        ])
        let json = try Self.run("weir-join --with bad.ndjson --on .id -o out.ndjson", in: directory, input: "{\"id\":1}\n")
        #expect(json.status == 1)
        #expect(json.stderr.hasPrefix("weir-join: bad.ndjson:3:9: "), "\(json.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out.ndjson").path))
        let csv = try Self.run("weir-join --with bad.csv --on .id", in: directory, input: "{\"id\":1}\n")
        #expect(csv.status == 1)
        #expect(csv.stderr.hasPrefix("weir-join: bad.csv:3:"), "\(csv.stderr)")
        #expect(csv.text.isEmpty)
        let scalar = try Self.run("weir-join --with scalar.ndjson --on .id", in: directory, input: "{\"id\":1}\n")
        #expect(scalar.status == 1)
        #expect(scalar.stderr.hasPrefix("weir-join: scalar.ndjson:2:"), "\(scalar.stderr)")
        let key = try Self.run("weir-join --with key.ndjson --on '.id + 1'", in: directory, input: "{\"id\":1}\n")
        #expect(key.status == 1)
        #expect(key.stderr.hasPrefix("weir-join: key.ndjson:2:"), "\(key.stderr)")
        #expect(key.stderr.contains("--key"), "\(key.stderr)")
        let missing = try Self.run("weir-join --with nowhere.ndjson --on .id", in: directory, input: "")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nowhere.ndjson"))
        let usage = try Self.run("weir-join --on .id", in: directory, input: "")
        #expect(usage.status == 2)
    }

    @Test("--unmatched-lookup gets the lookup records nothing matched (null keys included), and only when the run succeeds")
    func unmatchedLookup() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let result = try Self.run("weir-join --with stores.ndjson --on .id --anti --unmatched-lookup unused.ndjson -j 4 --stats", in: directory,
                                  input: "{\"id\":2}\n{\"id\":5}\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == [#"{"id":5}"#])
        let unused = try String(contentsOf: directory.appendingPathComponent("unused.ndjson"), encoding: .utf8)
        #expect(unused == """
            {"id":1,"city":"Lyon"}
            {"id":"1","city":"string one"}
            {"city":"no id"}
            {"id":null,"city":"null id"}

            """)
        #expect(StageHarness.stats(result.stderr)["lookup_unmatched"] == 4)
        let failed = try Self.run("weir-join --with stores.ndjson --on .id --unmatched-lookup failed.ndjson", in: directory,
                                  input: "{\"id\":2}\n{\"id\":\n")
        #expect(failed.status == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("failed.ndjson").path))
        #expect(!SplitStageTests.listing(directory).contains { $0.contains(".weir-") })
    }

    @Test("bad input records go through --errors; --stats reconciles and reports the lookup")
    func statsAndErrors() throws {
        let directory = try Self.folder(["stores.ndjson": Self.stores])
        let input = "{\"id\":1}\n[1]\n{\"id\":3}\n{\"id\":{\"x\":1} \n{\"id\":2}\n\"text\"\n"
        let result = try Self.run("weir-join --with stores.ndjson --on '.id' --errors skip -q --stats", in: directory, input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 2)
        let stats = StageHarness.stats(result.stderr)
        #expect(stats["read"] == 6)
        #expect(stats["rejected"] == 3)  // [1] (.id of an array), the broken line, the string
        #expect(stats["read"] == (stats["written"] ?? 0) + (stats["dropped"] ?? 0) + (stats["rejected"] ?? 0))
        #expect(stats["lookup_records"] == 6)
        #expect(stats["lookup_keys"] == 3)
        #expect((stats["lookup_bytes"] ?? 0) > 100)
    }

    @Test("-j 1 and -j 4 give the same output on many records")
    func jobsGiveTheSameOutput() throws {
        let lookup = (0..<5000).map { "{\"k\":\($0),\"name\":\"n\($0)\"}" }.joined(separator: "\n") + "\n"
        let directory = try Self.folder(["lookup.ndjson": lookup])
        let input = (0..<60_000).map { "{\"i\":\($0),\"k\":\($0 % 7919)}" }.joined(separator: "\n") + "\n"
        let one = try Self.run("weir-join --with lookup.ndjson --on .k --left -j 1 --unmatched-lookup u1.ndjson", in: directory, input: input)
        let four = try Self.run("weir-join --with lookup.ndjson --on .k --left -j 4 --unmatched-lookup u4.ndjson", in: directory, input: input)
        #expect(one.status == 0 && four.status == 0)
        #expect(one.lines.count == 60_000)
        #expect(one.stdout == four.stdout)
        #expect(one.lines[7000] == #"{"i":7000,"k":7000}"#)
        #expect(one.lines[4999] == #"{"i":4999,"k":4999,"name":"n4999"}"#)
        let u1 = try Data(contentsOf: directory.appendingPathComponent("u1.ndjson"))
        let u4 = try Data(contentsOf: directory.appendingPathComponent("u4.ndjson"))
        #expect(u1 == u4)
        #expect(u1.isEmpty)
    }
}
