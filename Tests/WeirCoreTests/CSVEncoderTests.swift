import Testing
@testable import WeirCore

/// Header handling, type inference and declared types, empty fields, ragged rows.
@Suite struct CSVEncoderTests {
    func lines(_ csv: String, header: CSVTestHeader = .firstRow, dialect: CSVDialect = .csv,
               _ configure: (inout CSVConversionOptions) -> Void = { _ in }) -> [String] {
        var options = CSVConversionOptions()
        configure(&options)
        let result = convertCSV(Array(csv.utf8), dialect: dialect, header: header, options: options)
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result.lines
    }

    func errors(_ csv: String, _ configure: (inout CSVConversionOptions) -> Void = { _ in }) -> [CSVError] {
        var options = CSVConversionOptions()
        configure(&options)
        return convertCSV(Array(csv.utf8), options: options).errors
    }

    @Test func numbersOnlyWhenAlreadyCanonicalJSON() {
        let cells = ["00742", "+5", "1.", "0x1F", " 5", "5 ", ".5", "1e", "--1", "-", "0", "-0", "742", "13911860366432393",
                     "1.10", "-12.5e-3", "1E400", "123456789012345678901234567890", "true", "false", "null", "NaN", "2,50"]
        let csv = "v\n" + cells.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: "\n") + "\n"
        let expected = [#""00742""#, #""+5""#, #""1.""#, #""0x1F""#, #"" 5""#, #""5 ""#, #"".5""#, #""1e""#, #""--1""#, #""-""#,
                        "0", "-0", "742", "13911860366432393", "1.10", "-12.5e-3", "1E400", "123456789012345678901234567890",
                        #""true""#, #""false""#, #""null""#, #""NaN""#, #""2,50""#]
        #expect(lines(csv) == expected.map { #"{"v":\#($0)}"# })
    }

    @Test func quotedNumbersAreStillNumbers() {
        #expect(lines("a,b\n\"12\",\"0012\"\n") == [#"{"a":12,"b":"0012"}"#])
    }

    @Test func inferenceModes() {
        #expect(lines("a,b,c\n1,true,false\n") { $0.inference = .none } == [#"{"a":"1","b":"true","c":"false"}"#])
        #expect(lines("a,b,c\n1,true,False\n") { $0.inference = .all } == [#"{"a":1,"b":true,"c":"False"}"#])
    }

    @Test func decimalComma() {
        let csv = "price;qty;code\n2,50;3;2.50\n-0,5;1e3;00,5\n"
        let dialect = CSVDialect(delimiter: UInt8(ascii: ";"), quote: UInt8(ascii: "\""))
        #expect(lines(csv, dialect: dialect) { $0.decimalComma = true } == [
            #"{"price":2.50,"qty":3,"code":"2.50"}"#,
            #"{"price":-0.5,"qty":1e3,"code":"00,5"}"#,
        ])
        #expect(lines("p\n\"2,50\"\n") { $0.decimalComma = true } == [#"{"p":2.50}"#])
    }

    @Test func declaredTypes() throws {
        let types = try CSVConversionOptions.parseTypes("zip:string,price:number,active:bool,meta:json,n:auto").get()
        let csv = "zip,price,active,meta,n,other\n00742,+007.50,Yes,\"{\"\"a\"\": [1, 2.0], \"\"b\"\":null}\",12,34\n12345,.5,0,\"\"\"x\"\"\",x,y\n"
        #expect(lines(csv) { $0.declaredTypes = types } == [
            #"{"zip":"00742","price":7.50,"active":true,"meta":{"a":[1,2.0],"b":null},"n":12,"other":34}"#,
            #"{"zip":"12345","price":0.5,"active":false,"meta":"x","n":"x","other":"y"}"#,
        ])
        #expect(lines("zip\n12345\n") { $0.declaredTypes = ["zip": .string]; $0.inference = .numbers } == [#"{"zip":"12345"}"#])
        // Declared types win over --infer none.
        #expect(lines("a,b\n1,2\n") { $0.declaredTypes = ["a": .number]; $0.inference = .none } == [#"{"a":1,"b":"2"}"#])
    }

    @Test func declaredTypeMismatchesAreErrors() throws {
        let found = errors("id,price,ok,meta\n1,abc,maybe,{\n2,3,yes,[]\n") { $0.declaredTypes = ["price": .number] }
        let error = try #require(found.first)
        #expect(found.count == 1)
        #expect(error.message == #""abc" is not a number"#)
        #expect((error.line, error.column, error.row, error.field, error.fieldName) == (2, 3, 2, 2, "price"))
        #expect(errors("ok\nmaybe\n") { $0.declaredTypes = ["ok": .bool] }.first?.message.contains("not a boolean") == true)
        #expect(errors("m\n{\n") { $0.declaredTypes = ["m": .json] }.first?.message.contains("not valid JSON") == true)
        #expect(errors("p\n2.50\n") { $0.declaredTypes = ["p": .number]; $0.decimalComma = true }.count == 1)
    }

    @Test func typeSpecParsing() {
        #expect((try? CSVConversionOptions.parseTypes("a:b:number").get()) == ["a:b": .number])
        #expect((try? CSVConversionOptions.parseTypes("a:float").get()) == nil)
        #expect((try? CSVConversionOptions.parseTypes("a").get()) == nil)
    }

    @Test func normalizedNumbers() {
        func normalize(_ text: String, comma: Bool = false) -> String? {
            CSVNumberSyntax.normalizedNumber(Array(text.utf8), decimalComma: comma).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(normalize("00742") == "742")
        #expect(normalize("+5") == "5")
        #expect(normalize("1.") == "1")
        #expect(normalize("-.5") == "-0.5")
        #expect(normalize("000") == "0")
        #expect(normalize("1.10") == "1.10")
        #expect(normalize("12345678901234567890123") == "12345678901234567890123")
        #expect(normalize("2,50", comma: true) == "2.50")
        #expect(normalize("1e+5") == "1e+5")
        for bad in ["", ".", "-", "1e", "0x1F", " 5", "1.2.3", "2,50", "e5", "1_000"] {
            #expect(normalize(bad) == nil, "\(bad)")
        }
    }

    @Test func emptyFieldPolicies() {
        let csv = "a,b,c\n1,,\"\"\n"
        #expect(lines(csv) == [#"{"a":1,"b":"","c":""}"#])
        #expect(lines(csv) { $0.empty = .null } == [#"{"a":1,"b":null,"c":null}"#])
        #expect(lines(csv) { $0.empty = .omit } == [#"{"a":1}"#])
        #expect(lines("a,b\n,1\n") { $0.empty = .omit } == [#"{"b":1}"#])
        #expect(lines("a,b\n,\n") { $0.empty = .omit } == ["{}"])
    }

    @Test func headerNames() {
        #expect(lines("a,a,b,a,a_2\n1,2,3,4,5\n") == [#"{"a":1,"a_3":2,"b":3,"a_4":4,"a_2":5}"#])
        #expect(lines(",x,\n1,2,3\n") == [#"{"1":1,"x":2,"3":3}"#])
        #expect(lines("\"we\"\"ird\",\"new\nline\"\n1,2\n") == [#"{"we\"ird":1,"new\nline":2}"#])
        #expect(lines("1,2\n3,4\n", header: .numbered) == [#"{"1":1,"2":2}"#, #"{"1":3,"2":4}"#])
        #expect(lines("1,2\n", header: .given(["x", "x"])) == [#"{"x":1,"x_2":2}"#])
    }

    @Test func raggedRows() throws {
        let csv = "a,b,c\n1,2\n1,2,3,4,5\n"
        let found = errors(csv)
        #expect(found.count == 2)
        #expect(found[0].message.contains("the row has 2 fields but the header has 3"))
        #expect((found[0].row, found[0].line) == (2, 2))
        #expect((found[1].row, found[1].field, found[1].column) == (3, 4, 7))
        #expect(lines(csv) { $0.ragged = .pad } == [#"{"a":1,"b":2,"c":""}"#, #"{"a":1,"b":2,"c":3,"4":4,"5":5}"#])
        #expect(lines(csv) { $0.ragged = .truncate; $0.empty = .null } == [#"{"a":1,"b":2,"c":null}"#, #"{"a":1,"b":2,"c":3}"#])
        #expect(lines("4,b\n1,2,3\n") { $0.ragged = .pad } == [#"{"4":1,"b":2,"3":3}"#])
        #expect(lines("3,b\n1,2,3\n") { $0.ragged = .pad } == [#"{"3":1,"b":2,"3_2":3}"#])
    }

    @Test func escapingOfStrings() {
        let csv = "a,b\n\"tab\there\",\"back\\slash \"\"q\"\" \r\n crlf\"\nctl\u{01}\u{7F},é\n"
        #expect(lines(csv) == [
            #"{"a":"tab\there","b":"back\\slash \"q\" \r\n crlf"}"#,
            #"{"a":"ctl\u0001\u007f","b":"é"}"#,
        ])
        // A single-quote dialect: double quotes in the data still get JSON escapes.
        let single = CSVDialect(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "'"))
        #expect(lines("a\n'it''s \"x\"'\nsay \"hi\"\n", dialect: single) == [#"{"a":"it's \"x\""}"#, #"{"a":"say \"hi\""}"#])
        // A tab delimiter is escaped when it sits inside a quoted field.
        #expect(lines("a\tb\n\"x\ty\"\t1\n", dialect: .tsv) == [#"{"a":"x\ty","b":1}"#])
    }

    @Test func provenance() {
        var options = CSVConversionOptions()
        options.filenameKey = "file"
        options.rowKey = "row"
        var encoder = CSVObjectEncoder(header: CSVHeader(names: ["a"]), options: options, dialect: .csv, filename: "in\"put.csv")
        var output: [UInt8] = []
        Array("x\n\ny\n".utf8).withUnsafeBytes { bytes in
            var tokenizer = CSVTokenizer(chunk: bytes, dialect: .csv, firstLine: 2, firstRow: 2)
            while (try? tokenizer.nextRecord()) == true { try? encoder.encode(tokenizer, into: &output) }
        }
        #expect(String(decoding: output, as: UTF8.self) == """
            {"a":"x","file":"in\\"put.csv","row":2}
            {"a":"y","file":"in\\"put.csv","row":3}

            """)
    }

    @Test func errorsLeaveTheOutputUntouched() {
        var options = CSVConversionOptions()
        options.declaredTypes = ["b": .number]
        var encoder = CSVObjectEncoder(header: CSVHeader(names: ["a", "b"]), options: options, dialect: .csv)
        var output: [UInt8] = Array("kept\n".utf8)
        Array("1,x\n".utf8).withUnsafeBytes { bytes in
            var tokenizer = CSVTokenizer(chunk: bytes, dialect: .csv)
            _ = try? tokenizer.nextRecord()
            #expect(throws: CSVError.self) { try encoder.encode(tokenizer, into: &output) }
        }
        #expect(output == Array("kept\n".utf8))
    }
}
