@testable import WeirCore
import WeirTestSupport

/// How the test pipeline names its columns.
enum CSVTestHeader {
    case firstRow
    case numbered
    case given([String])
}

/// What the test pipeline produced: NDJSON lines and errors, in input order.
struct CSVTestResult {
    var lines: [String] = []
    var errors: [CSVError] = []
    var header: CSVHeader? = nil
}

/// Runs CSV bytes through framer → tokenizer → encoder the way a stage does, feeding the
/// framer `pieceSize` bytes at a time so chunk boundaries fall everywhere.
func convertCSV(_ input: [UInt8], dialect: CSVDialect = .csv, header: CSVTestHeader = .firstRow,
                options: CSVConversionOptions = CSVConversionOptions(), pieceSize: Int = 1 << 20) -> CSVTestResult {
    var result = CSVTestResult()
    var framer = CSVRecordFramer(quote: dialect.quote)
    let classes = CSVByteClasses(dialect)
    var buffer: [UInt8] = []
    var line = 1
    var row = 1
    var encoder: CSVObjectEncoder? = nil
    switch header {
    case .firstRow: break
    case .numbered: break
    case .given(let names): encoder = CSVObjectEncoder(header: CSVHeader(names: names), options: options, dialect: dialect)
    }
    func process(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { bytes in
            var tokenizer = CSVTokenizer(chunk: bytes, dialect: dialect, classes: classes, firstLine: line, firstRow: row)
            var output: [UInt8] = []
            while true {
                do throws(CSVError) {
                    guard try tokenizer.nextRecord() else { break }
                    if encoder == nil {
                        if case .numbered = header {
                            encoder = CSVObjectEncoder(header: .numbered(tokenizer.fields.count), options: options, dialect: dialect)
                        } else {
                            let names = CSVHeader.from(tokenizer)
                            result.header = names
                            encoder = CSVObjectEncoder(header: names, options: options, dialect: dialect)
                            continue
                        }
                    }
                    try encoder!.encode(tokenizer, into: &output)
                } catch {
                    result.errors.append(error)
                }
            }
            line = tokenizer.line
            row = tokenizer.row + 1
            for text in String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                result.lines.append(String(text))
            }
        }
    }
    var offset = 0
    while offset < input.count {
        let end = min(offset + pieceSize, input.count)
        buffer.append(contentsOf: input[offset..<end])
        offset = end
        let boundary = buffer.withUnsafeBytes { framer.completeRecordsEnd(in: $0) }
        if boundary > 0 {
            process(Array(buffer[..<boundary]))
            buffer.removeFirst(boundary)
            framer.consume(upTo: boundary)
        }
    }
    if !buffer.isEmpty { process(buffer) }
    return result
}

/// Splits CSV text into rows of field texts with the tokenizer alone (no header, no types).
func tokenizeCSV(_ input: [UInt8], dialect: CSVDialect = .csv) -> (rows: [[String]], errors: [CSVError]) {
    var rows: [[String]] = []
    var errors: [CSVError] = []
    input.withUnsafeBytes { bytes in
        var tokenizer = CSVTokenizer(chunk: bytes, dialect: dialect)
        while true {
            do throws(CSVError) {
                guard try tokenizer.nextRecord() else { break }
                rows.append(tokenizer.fields.map { $0.text(in: bytes, quote: dialect.quote) })
            } catch {
                errors.append(error)
            }
        }
    }
    return (rows, errors)
}

/// Writes NDJSON lines as CSV with a ``CSVTableWriter``.
func writeCSV(_ lines: [String], columns: [String]? = nil, options: CSVTableOptions = CSVTableOptions()) -> (csv: String, errors: [String], added: [String]) {
    var writer = CSVTableWriter(columns: columns, options: options)
    var output: [UInt8] = []
    var errors: [String] = []
    var added: [String] = []
    for line in lines {
        var bytes = Array(line.utf8)
        do {
            added += try bytes.withUnsafeBytes { buffer in try writer.write(buffer, into: &output) }
        } catch let error as JSONError {
            errors.append(error.message)
        } catch {
            errors.append("\(error)")
        }
        bytes.removeAll()
    }
    writer.finish(into: &output)
    return (String(decoding: output, as: UTF8.self), errors, added)
}

/// A file or folder of the conformance suites (see ``TestData``: `$WEIR_TESTDATA` or `../shared/testdata`).
func sharedTestData(_ path: String) -> String { TestData.path(path) }

/// The bytes of a file, or nil when it cannot be read.
func readFileBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}

/// The names of the files in a directory (none when it cannot be read).
func listDirectory(_ path: String) -> [String] { listDirectoryIfReadable(path) ?? [] }

/// The names of the entries of a directory, sorted, or nil when it cannot be read.
func listDirectoryIfReadable(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// A small deterministic random generator (SplitMix64) so generated tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
#endif
