import Testing
@testable import WeirCore

/// Generated tables through CSV → NDJSON → CSV and back: nothing is lost or changed.
@Suite struct CSVRoundTripTests {
    /// A random table: unique header names, awkward values, and the CSV text of it.
    struct Table {
        var names: [String]
        var rows: [[String]]

        func csv(_ dialect: CSVDialect = .csv) -> [UInt8] {
            var output: [UInt8] = []
            let writer = CSVFieldWriter(dialect: dialect)
            writer.appendRow(names, into: &output)
            for row in rows { writer.appendRow(row, into: &output) }
            return output
        }
    }

    static func randomTable(_ generator: inout SeededGenerator) -> Table {
        let columnCount = Int.random(in: 1...6, using: &generator)
        var names: [String] = []
        while names.count < columnCount {
            let name = randomField(&generator)
            if !name.isEmpty && !names.contains(name) && !name.contains(".") { names.append(name) }
        }
        let rows = (0..<Int.random(in: 0...15, using: &generator)).map { _ in
            (0..<columnCount).map { _ in randomField(&generator) }
        }
        return Table(names: names, rows: rows)
    }

    /// CSV → NDJSON (numbers inferred) → CSV gives back the same bytes, and reading that
    /// CSV again gives the same NDJSON.
    @Test func csvToJSONToCSV() {
        var generator = SeededGenerator(seed: 20261128)
        for iteration in 0..<300 {
            let table = Self.randomTable(&generator)
            let dialect = iteration % 3 == 2 ? CSVDialect.tsv : .csv
            let csv = table.csv(dialect)
            let pieceSize = [1, 5, 64, 1 << 20][iteration % 4]
            let first = convertCSV(csv, dialect: dialect, pieceSize: pieceSize)
            #expect(first.errors.isEmpty, "\(first.errors)")
            #expect(first.lines.count == table.rows.count)
            var options = CSVTableOptions()
            options.dialect = dialect
            let back = writeCSV(first.lines, columns: table.names, options: options)
            #expect(back.errors.isEmpty)
            #expect(Array(back.csv.utf8) == csv, "table \(iteration)")
            let second = convertCSV(Array(back.csv.utf8), dialect: dialect)
            #expect(second.lines == first.lines)
        }
    }

    /// NDJSON → CSV → NDJSON gives back the records when their values are strings and
    /// canonical numbers (what CSV can carry).
    @Test func jsonToCSVToJSON() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<300 {
            let table = Self.randomTable(&generator)
            let records: [String] = table.rows.map { row in
                let object = JSONObject(zip(table.names, row).map { name, text in
                    let isNumber = Array(text.utf8).withUnsafeBufferPointer {
                        $0.count > 0 && CSVNumberSyntax.isJSONNumber($0.baseAddress!, 0, $0.count)
                    }
                    return (name, isNumber ? JSONValue.number(JSONNumber(literal: text)) : .string(text))
                })
                return JSONWriter.string(.object(object))
            }
            let csv = writeCSV(records)
            #expect(csv.errors.isEmpty)
            let back = convertCSV(Array(csv.csv.utf8))
            #expect(back.errors.isEmpty)
            #expect(back.lines == records)
        }
    }

    @Test func hugeIntegersAndLeadingZerosSurvive() {
        let csv = Array("id,zip,price\n13911860366432393,00742,1.10\n123456789012345678901234567890,007,2\n".utf8)
        let json = convertCSV(csv)
        #expect(json.lines == [
            #"{"id":13911860366432393,"zip":"00742","price":1.10}"#,
            #"{"id":123456789012345678901234567890,"zip":"007","price":2}"#,
        ])
        #expect(Array(writeCSV(json.lines).csv.utf8) == csv)
    }
}
