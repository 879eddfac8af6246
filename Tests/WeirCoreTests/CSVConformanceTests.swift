import Testing
@testable import WeirCore
import WeirTestSupport

/// csv-spectrum and TiddlyWiki's CSV cases, read through the whole codec (each skipped, by name, when its suite is absent).
@Suite struct CSVConformanceTests {
    static let spectrumNames = listDirectory(sharedTestData("csv-spectrum/csvs"))
        .filter { $0.hasSuffix(".csv") }
        .map { String($0.dropLast(4)) }

    @Test(.needsTestData("csv-spectrum")) func spectrumHasItsTwelveCases() {
        #expect(Self.spectrumNames.count == 12)
    }

    /// Every well-formed pair: each expected object equals one output line, key order and all.
    @Test(.needsTestData("csv-spectrum"), arguments: spectrumNames.filter { $0 != "location_coordinates" })
    func spectrumCase(_ name: String) throws {
        let input = try #require(readFileBytes(sharedTestData("csv-spectrum/csvs/\(name).csv")))
        let expectedBytes = try #require(readFileBytes(sharedTestData("csv-spectrum/json/\(name).json")))
        guard case .array(let expected) = try JSONParser.parse(expectedBytes) else {
            Issue.record("expected file is not an array")
            return
        }
        var options = CSVConversionOptions()
        options.inference = .none  // csv-spectrum expects strings only
        for pieceSize in [1, 2, 3, 7, 1 << 20] {
            let result = convertCSV(input, options: options, pieceSize: pieceSize)
            #expect(result.errors.isEmpty, "\(name): \(result.errors)")
            #expect(result.lines == expected.map { JSONWriter.string($0) }, "\(name) with pieces of \(pieceSize)")
        }
    }

    /// The broken upstream pair: a bare quote inside an unquoted field is an error that
    /// names the row, line and field.
    @Test(.needsTestData("csv-spectrum")) func spectrumLocationCoordinatesIsRejectedPrecisely() throws {
        let input = try #require(readFileBytes(sharedTestData("csv-spectrum/csvs/location_coordinates.csv")))
        let result = convertCSV(input)
        #expect(result.lines.isEmpty)
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.row == 2)
        #expect(error.line == 2)
        #expect(error.field == 2)
        #expect(error.message.contains("quote inside an unquoted field"))
    }

    struct TiddlyCase: Sendable, CustomTestStringConvertible {
        var name: String
        var separator: UInt8
        var csv: String?
        var rows: [[String]]
        var undefined: Bool
        var testDescription: String { name }
    }

    static let tiddlyCases: [TiddlyCase] = {
        guard let bytes = readFileBytes(sharedTestData("tiddlywiki-csv-cases/csv-cases.tid")) else { return [] }
        guard let blank = (0..<bytes.count - 1).first(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }),
              case .array(let cases)? = try? JSONParser.parse(Array(bytes[(blank + 2)...])) else { return [] }
        return cases.compactMap { value in
            guard case .object(let object) = value, case .string(let name)? = object["name"] else { return nil }
            var separator = UInt8(ascii: ",")
            if case .object(let options)? = object["options"], case .string(let given)? = options["separator"] {
                separator = Array(given.utf8)[0]
            }
            var csv: String? = nil
            if case .string(let text)? = object["csv"] { csv = text }
            var rows: [[String]] = []
            if case .array(let expected)? = object["json"] {
                for row in expected {
                    guard case .array(let cells) = row else { continue }
                    rows.append(cells.compactMap { if case .string(let cell) = $0 { cell } else { nil } })
                }
            }
            return TiddlyCase(name: name, separator: separator, csv: csv, rows: rows, undefined: object["@comment"] != nil)
        }
    }()

    @Test(.needsTestData("tiddlywiki-csv-cases")) func tiddlyHasItsTwentyOneCases() {
        #expect(Self.tiddlyCases.count == 21)
    }

    /// Ordinary cases: the rows match, except that blank lines are skipped (Weir's rule:
    /// a blank line is not a record, so `\r\n\r\n` has no rows and "Support empty rows"
    /// loses its empty middle row).
    @Test(.needsTestData("tiddlywiki-csv-cases"), arguments: tiddlyCases.filter { !$0.undefined && $0.csv != nil })
    func tiddlyCase(_ testCase: TiddlyCase) {
        let dialect = CSVDialect(delimiter: testCase.separator, quote: UInt8(ascii: "\""))
        let result = tokenizeCSV(Array(testCase.csv!.utf8), dialect: dialect)
        #expect(result.errors.isEmpty)
        #expect(result.rows == testCase.rows.filter { !$0.isEmpty })
    }

    /// The three "undefined" cases use a quote, CR or LF as separator: a usage error.
    @Test(.needsTestData("tiddlywiki-csv-cases"), arguments: tiddlyCases.filter { $0.undefined })
    func tiddlyUndefinedSeparatorIsRefused(_ testCase: TiddlyCase) {
        let dialect = CSVDialect(delimiter: testCase.separator, quote: UInt8(ascii: "\""))
        #expect(dialect.validate() != nil)
    }

    @Test func blankLineRules() {
        #expect(tokenizeCSV(Array("\r\n\r\n".utf8)).rows.isEmpty)
        #expect(tokenizeCSV(Array("a\n\n\nb\r\n\r\nc".utf8)).rows == [["a"], ["b"], ["c"]])
        // A line of spaces is a record with one field, not a blank line.
        #expect(tokenizeCSV(Array("a\n \n".utf8)).rows == [["a"], [" "]])
        // An empty quoted field is a value.
        #expect(tokenizeCSV(Array("a\n\"\"\n".utf8)).rows == [["a"], [""]])
    }
}
