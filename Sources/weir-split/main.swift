#if canImport(Glibc)
import Glibc
#endif
import WeirCore
import WeirExpression

/// The values `--max-records` accepts.
let maxRecordsRange = 1...1_000_000_000_000
/// The values `--flatten-depth` accepts besides `all` (as weir-to-csv).

let spec = StageSpec(
    name: "split",
    summary: "write each record to a file whose name is a template over its values",
    operands: "--to TEMPLATE [FILE...]",
    description: """
        Writes each record to the file that TEMPLATE names for it, like awk '{ print > $1 }' \
        or mlr split, creating directories as needed. TEMPLATE is the inside of a jq string: \
        text with \\(EXPR) interpolations, as in --to 'out/\\(.retailer)/\\(.date).ndjson' \
        (a string value is written as its text, anything else as JSON, null as null). Records \
        are validated and written as they came, byte for byte (as weir-filter writes them), \
        and keep their input order in each file.

        The files are complete or absent: each is written under a temporary name beside it \
        and renamed into place only when the whole run succeeds; a failed or interrupted run \
        (a bad record under --errors fail, an unreadable input, a write error, a signal) \
        leaves no file and no temporary, and removes the directories it created. An existing \
        file that the run writes is replaced; others are left alone.

        The values cannot take a write outside the template's directory: the literal text \
        of TEMPLATE up to its last / before the first \\( (or the current directory). A path \
        whose part after that directory has a .. or . component, an empty one (//, a trailing \
        /), is absolute, holds a NUL byte, or has a component longer than 223 bytes is a bad \
        record (see --errors), never written. A template that yields nothing for a record \
        (\\(empty)) makes it a bad record too; when it yields several paths, the first is used.

        --max-records N rolls files: the records for out/a.ndjson go to out/a-0001.ndjson, \
        then out/a-0002.ndjson, N per file (the number has at least four digits and goes \
        before the extension of the last component; every file gets one, the first too).

        --format csv writes each file as weir-to-csv would write its records, with its own \
        header: the columns are --columns, or else the keys of the file's first record. The \
        CSV options are those of weir-to-csv, except --new-keys append: --columns, --new-keys \
        error|ignore, --flatten-depth, --quote-all, -d/--delimiter, --tsv, --quote, --crlf, \
        --no-header. A record that is not an object, or has a key that is not a column of \
        its file under --new-keys error, is a bad record.

        At most --max-open files are open at once (the least recently used is closed and \
        reopened later); the default is what the descriptor limit allows, at most 1000 (the \
        soft limit is first raised to the hard one). Output is buffered, up to 32 KiB per \
        file and 8 MiB in all, so memory stays flat however many files there are. --stats \
        adds "files": the number of files written.
        """,
    options: [
        .value("to", "TEMPLATE", help: "The output path of each record: the inside of a jq string, such as 'out/\\(.retailer).ndjson'."),
        .value("format", "FORMAT", default: "ndjson", choices: SplitFormat.self, help: "What the files hold: ndjson (compact records) or csv (rows under a header per file)."),
        .value("max-open", "N", default: "descriptor limit - 64, at most 1000", help: "The most output files open at once, from 1 to the descriptor limit less 64."),
        .value("max-records", "N", help: "Roll files every N records, \(ParsedOptions.rangeText(maxRecordsRange)): out/a.ndjson becomes out/a-0001.ndjson, out/a-0002.ndjson, …"),
        .flag("pass", help: "Also write every record written to a file to standard output (or -o FILE) as NDJSON, like tee -p: if standard output is closed, the files are still written."),
    ] + CSVTableCommandLine.options(newKeys: [.error, .ignore], helpPrefix: "With --format csv: ") + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "One file per retailer",
            command: "weir-split --to 'out/\\(.retailer).ndjson' && head out/*",
            input: "{\"retailer\":\"acme\",\"sku\":\"A-1\"}\n{\"retailer\":\"bolt\",\"sku\":\"B-2\"}\n{\"retailer\":\"acme\",\"sku\":\"A-3\"}\n",
            output: "==> out/acme.ndjson <==\n{\"retailer\":\"acme\",\"sku\":\"A-1\"}\n{\"retailer\":\"acme\",\"sku\":\"A-3\"}\n\n==> out/bolt.ndjson <==\n{\"retailer\":\"bolt\",\"sku\":\"B-2\"}\n"),
        StageExample(
            "CSV files in nested directories, two rows per file",
            command: "weir-split --to 'csv/\\(.day)/\\(.store).csv' --format csv --max-records 2 && head csv/*/*",
            input: "{\"day\":\"mon\",\"store\":\"lyon\",\"qty\":1}\n{\"day\":\"mon\",\"store\":\"lyon\",\"qty\":2}\n{\"day\":\"mon\",\"store\":\"lyon\",\"qty\":3}\n",
            output: "==> csv/mon/lyon-0001.csv <==\nday,store,qty\nmon,lyon,1\nmon,lyon,2\n\n==> csv/mon/lyon-0002.csv <==\nday,store,qty\nmon,lyon,3\n"),
        StageExample(
            "Keep the stream going with --pass",
            command: "weir-split --to 'by-city/\\(.city).ndjson' --pass | weir-map .city",
            input: "{\"city\":\"Lyon\"}\n{\"city\":\"Genève\"}\n",
            output: "\"Lyon\"\n\"Genève\"\n"),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options

// The template and the directory it must stay in.
guard let compiled = ExpressionOptions.compileTemplateOption("to", invocation) else {
    invocation.usageError("missing --to TEMPLATE (the output path of each record)")
}
let template = compiled.program
let baseDirectory = SafePath.baseDirectory(ofPrefix: compiled.literalPrefix)

// Files.
let descriptorLimit = SystemIO.raiseOpenFileLimit()
let openable = max(1, descriptorLimit - 64)
let maxOpen = invocation.integer("max-open", default: min(1000, openable), range: 1...openable)
let maxRecords: Int? = options.value("max-records") == nil ? nil : invocation.integer("max-records", default: 0, range: maxRecordsRange)
let pass = options.flag("pass")
if options.value("output") != nil && !pass { invocation.usageError("-o FILE goes with --pass (the files are named by --to)") }

// CSV.
enum SplitFormat: String, CaseIterable { case ndjson, csv }
let format = invocation.choice("format", default: SplitFormat.ndjson)
if format != .csv, let first = CSVTableCommandLine.given(in: options).first { invocation.usageError("--\(first) goes with --format csv") }
let (tableOptions, columns) = CSVTableCommandLine.settings(from: invocation, newKeys: [.error, .ignore])

/// Validates a record, evaluates the template, checks the path, and writes
/// `PATH<TAB>FILE<TAB>LINE<TAB>RECORD` (path and input file as JSON strings), so that the
/// sink can route the record and report it with its place if its file refuses it.
struct RouteRecord: RecordTransform {
    let template: Program
    let baseDirectory: String
    let rolls: Bool
    let needsObject: Bool
    /// Paths already checked (most runs have a few thousand at most): checked once each.
    var checkedPaths: Set<String> = []

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        // The parse validates the whole record, and decodes only what the template reads.
        let value = try RecordDecoding.parse(record, keeping: template.inputPaths)
        if needsObject, record.first(where: { $0 != 0x20 && $0 != 0x09 }) != UInt8(ascii: "{") {
            throw RecordError("a CSV row comes from an object; this record is not one")
        }
        let path = try template.firstOutput(of: value, at: position).map { output in
            if case .string(let text) = output { text } else { JSONWriter.string(output) }
        }
        guard let path else { throw RecordError("--to gave no path for this record (the template yielded nothing)") }
        if !checkedPaths.contains(path) {
            if let violation = SafePath.violation(path, inside: baseDirectory)
                ?? (rolls ? SafePath.violation(SafePath.rolledPath(path, part: 1), inside: baseDirectory) : nil) {
                throw RecordError("--to gave \(JSONWriter.string(.string(path))): \(violation), so it is not written")
            }
            if checkedPaths.count < 100_000 { checkedPaths.insert(path) }
        }
        JSONWriter.writeString(path, into: &output)
        output.append(0x09)
        if needsObject {  // where a CSV file refuses the record, the sink reports its place
            JSONWriter.writeString(position.fileName, into: &output)
            output.append(0x09)
            output.append(contentsOf: String(position.line).utf8)
        } else {
            output.append(0x09)
        }
        output.append(0x09)
        output.append(contentsOf: record)
        output.append(0x0A)
        return 1
    }
}

/// Writes each routed record to its file through an ``OutputSet`` (as NDJSON, or as a CSV
/// row under the file's own header), rolling files every `maxRecords`, and copies it to the
/// standard output with `--pass`. The files are put in place by ``commit()`` only.
struct SplitSink: OutputSink {
    /// The records of one path from the template, and the file they are going to now.
    private final class Stream {
        let path: String
        var part = 1
        var recordsInPart = 0
        var file: String
        /// The ``OutputSet`` number of `file`.
        var fileNumber = 0
        var table: TableBox?

        init(path: String, file: String) {
            self.path = path
            self.file = file
        }
    }

    /// A CSV table writer (not copyable) for one file.
    private final class TableBox {
        var writer: CSVTableWriter
        init(_ writer: consuming CSVTableWriter) { self.writer = writer }
    }

    private let files: OutputSet
    private let csv: CSVTableOptions?
    private let columns: [String]?
    private let maxRecords: Int?
    private let pass: Bool
    private var streams: [[UInt8]: Stream] = [:]
    private var lastKey: [UInt8] = []
    private var keyBuffer: [UInt8] = []
    private var lastStream: Stream? = nil
    private var problems: [RecordProblem] = []
    private var row: [UInt8] = []
    private var passed: [UInt8] = []
    private var passClosed = false
    /// Bytes written to the files and, with `--pass`, to standard output since the last report.
    private var bytesWritten = 0

    init(maxOpen: Int, csv: CSVTableOptions?, columns: [String]?, maxRecords: Int?, pass: Bool) {
        files = OutputSet(maxOpen: maxOpen)
        self.csv = csv
        self.columns = columns
        self.maxRecords = maxRecords
        self.pass = pass
    }

    mutating func begin(_ target: OutputTarget) throws(IOError) {}

    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        guard let base = bytes.baseAddress else { return }
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = memchr(base + lineStart, 0x0A, bytes.count - lineStart).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? bytes.count
            try route(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd]))
            lineStart = lineEnd
            if passed.count >= 256 * 1024 { try flushPassed(target) }
        }
        try flushPassed(target)
    }

    /// Writes the record of one `PATH<TAB>FILE<TAB>LINE<TAB>RECORD\n` line to its file.
    private mutating func route(_ lineWithEnd: UnsafeRawBufferPointer) throws(IOError) {
        let endsInNewline = lineWithEnd.last == 0x0A
        let line = endsInNewline ? UnsafeRawBufferPointer(rebasing: lineWithEnd.dropLast()) : lineWithEnd
        var fields: [Range<Int>] = []
        fields.reserveCapacity(3)
        var start = 0
        while fields.count < 3, let tab = line[start...].firstIndex(of: 0x09) {
            fields.append(start..<tab)
            start = tab + 1
        }
        guard fields.count == 3 else { return }
        let record = UnsafeRawBufferPointer(rebasing: line[start...])
        let stream: Stream
        if let last = lastStream, lastKey.elementsEqual(line[fields[0]]) {
            // Records of one key often come in runs: no lookup.
            stream = last
        } else if let known = lookUp(UnsafeRawBufferPointer(rebasing: line[fields[0]])) {
            stream = known
        } else {
            let key = Array(line[fields[0]])
            let path = Self.decodeString(UnsafeRawBufferPointer(rebasing: line[fields[0]]))
            stream = Stream(path: path, file: maxRecords == nil ? path : SafePath.rolledPath(path, part: 1))
            stream.fileNumber = try files.file(stream.file)
            streams[key] = stream
        }
        if lastStream !== stream {
            lastStream = stream
            lastKey.removeAll(keepingCapacity: true)
            lastKey.append(contentsOf: line[fields[0]])
        }
        if let maxRecords, stream.recordsInPart == maxRecords {
            try files.finishFile(stream.file)
            stream.part += 1
            stream.recordsInPart = 0
            stream.file = SafePath.rolledPath(stream.path, part: stream.part)
            stream.fileNumber = try files.file(stream.file)
            stream.table = nil
        }
        if let csv {
            if stream.table == nil { stream.table = TableBox(CSVTableWriter(columns: columns, options: csv)) }
            row.removeAll(keepingCapacity: true)
            do throws(JSONError) {
                _ = try stream.table!.writer.write(record, into: &row)
            } catch {
                let fileName = Self.decodeString(UnsafeRawBufferPointer(rebasing: line[fields[1]]))
                let lineNumber = Int(String(decoding: line[fields[2]], as: UTF8.self)) ?? 0
                problems.append(RecordProblem(fileName: fileName, line: lineNumber, column: nil,
                                              message: "\(error.message) (in \(stream.file))", input: Array(record), outputOffset: 0))
                return
            }
            try row.withBytes { (bytes) throws(IOError) in try files.write(bytes, toFile: stream.fileNumber) }
            bytesWritten += row.count
        } else if endsInNewline {
            // The record and its line end, as the worker wrote them: no copy.
            let withNewline = UnsafeRawBufferPointer(rebasing: lineWithEnd[start...])
            try files.write(withNewline, toFile: stream.fileNumber)
            bytesWritten += withNewline.count
        } else {
            row.removeAll(keepingCapacity: true)
            row.append(contentsOf: record)
            row.append(0x0A)
            try row.withBytes { (bytes) throws(IOError) in try files.write(bytes, toFile: stream.fileNumber) }
            bytesWritten += row.count
        }
        stream.recordsInPart += 1
        if pass && !passClosed {
            passed.append(contentsOf: record)
            passed.append(0x0A)
        }
    }

    /// Writes the records copied for `--pass`. When the reader of standard output goes away
    /// (`| head`), only the copy stops, as with `tee -p`: the files are the stage's output.
    private mutating func flushPassed(_ target: OutputTarget) throws(IOError) {
        guard !passed.isEmpty else { return }
        defer { passed.removeAll(keepingCapacity: true) }
        guard !passClosed else { return }
        do throws(IOError) {
            try target.write(passed)
            bytesWritten += passed.count
        } catch {
            guard error.isBrokenPipe, !target.isAtomic else { throw error }
            passClosed = true
        }
    }

    /// The stream of a path key, looked up through a reused buffer (no allocation per record).
    private mutating func lookUp(_ key: UnsafeRawBufferPointer) -> Stream? {
        keyBuffer.removeAll(keepingCapacity: true)
        keyBuffer.append(contentsOf: key)
        return streams[keyBuffer]
    }

    /// The text of a compact JSON string (as the workers wrote it).
    private static func decodeString(_ json: UnsafeRawBufferPointer) -> String {
        if json.count >= 2, !json.contains(UInt8(ascii: "\\")) {
            return String(decoding: json[1..<(json.count - 1)], as: UTF8.self)
        }
        if case .string(let text)? = try? JSONParser.parse(json) { return text }
        return String(decoding: json, as: UTF8.self)
    }

    mutating func finish(_ target: OutputTarget) throws(IOError) {}

    mutating func commit() throws(IOError) {
        try files.commit()
    }

    mutating func abandon() {
        files.abandon()
    }

    var reportsBytesWritten: Bool { true }

    /// The files are the output: a reader of the `--pass` copy that goes away stops only the copy.
    var stopsWhenConsumerLeaves: Bool { false }

    mutating func report(into report: inout SinkReport) {
        report.problems += problems
        problems.removeAll()
        report.bytesWritten += bytesWritten
        bytesWritten = 0
        report.setStatistic("files", files.fileCount)
    }
}

let sink = SplitSink(maxOpen: maxOpen, csv: format == .csv ? tableOptions : nil, columns: columns, maxRecords: maxRecords, pass: pass)
await invocation.run(sink: sink) {
    RouteRecord(template: template, baseDirectory: baseDirectory, rolls: maxRecords != nil, needsObject: format == .csv)
}
