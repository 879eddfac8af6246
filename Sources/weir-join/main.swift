import Synchronization
import WeirCore
import WeirExpression

let spec = StageSpec(
    name: "join",
    summary: "enrich each record from a lookup file, by key (a hash join)",
    operands: "--with FILE --on EXPR [FILE...]",
    description: """
        Loads the lookup FILE of --with once, before reading any input, and joins each record \
        to the lookup records whose key equals its own, like mlr join -f or SQL's JOIN: the \
        key of a record is the first output of --on EXPR on it, that of a lookup record the \
        first output of --key EXPR (the same as --on unless given). Keys compare as JSON \
        values, as jq's == does: 1, 1.0 and 1e0 are equal, objects are equal whatever their \
        key order, and "1" is not 1. A key that is null, or an expression that yields \
        nothing, matches nothing (as a NULL in SQL, and as mlr join skips records that lack \
        the field): such records are unmatched on either side.

        By default (--merge) the fields of the match are merged into the record as jq's \
        . + $match does: the lookup's values win, a key the record already has keeps its \
        place, new keys are added at the end. --as FIELD puts the whole match under FIELD \
        instead (.FIELD = $match). Both write the record's own bytes with the match spliced \
        in, so values the join does not touch come through as they came.

        --inner (the default) writes only records that have a match; --left also writes the \
        others, unchanged (with FIELD set to null under --as, so that every output record has \
        it); --anti writes only the records that have no match, as they came. When several \
        lookup records share a key, the first one in the lookup file wins; with --many a \
        record is written once per match, in lookup-file order. --unmatched-lookup FILE \
        writes, at the end, the lookup records that no input record matched (by key, \
        whatever the mode), in lookup-file order; like -o, it is put in place only when the \
        run succeeds.

        The lookup file is NDJSON, or CSV (TSV) when its name ends in .csv (.tsv), \
        optionally followed by .gz, or --with-format says so, read exactly as weir-from-csv reads it with its defaults (a \
        header row; numbers only where the text already is one, so 00742 stays a string). It \
        is held in memory compactly (about its size as compact JSON, plus some 40 bytes per \
        record); --stats adds lookup_records, lookup_keys (distinct), lookup_bytes (held) and, \
        with --unmatched-lookup, lookup_unmatched. A bad lookup line (invalid JSON, a bad CSV \
        row, a --key that fails on it, a record that is not an object under --merge) ends the \
        stage before any output with exit status 1 and a message naming the lookup file and \
        its line; --errors applies to the input records only, where a record whose --on fails, \
        or that is not an object when it needs to be, is a bad record.
        """,
    options: [
        .value("with", "FILE", help: "The lookup file: NDJSON, or CSV/TSV (by its extension or --with-format), loaded once."),
        .value("with-format", "FORMAT", default: "by extension", choices: LookupFormat.self, help: "The lookup file's format: ndjson, csv or tsv (.csv and .tsv names, also .csv.gz and .tsv.gz, are CSV and TSV, others NDJSON)."),
        .value("on", "EXPR", help: "The key of each input record: the first output of EXPR."),
        .value("key", "EXPR", default: "the --on EXPR", help: "The key of each lookup record: the first output of EXPR."),
        .flag("merge", help: "Merge the match's fields into the record, the match's values winning (. + $match); the default."),
        .value("as", "FIELD", help: "Put the match under FIELD instead of merging it (.FIELD = $match)."),
        .flag("inner", help: "Write only the records that have a match (the default)."),
        .flag("left", help: "Also write the records that have no match, unchanged (FIELD null under --as)."),
        .flag("anti", help: "Write only the records that have no match, unchanged."),
        .flag("many", help: "Write a record once per match, in lookup order (by default the first match wins)."),
        .value("unmatched-lookup", "FILE", help: "At the end, write the lookup records that no record matched to FILE (only when the run succeeds)."),
    ] + ExpressionOptions.variableOptions,
    examples: [
        StageExample(
            "Merge the fields of a store into each record",
            command: "printf '{\"store\":\"S1\",\"city\":\"Lyon\"}\\n' > stores.ndjson && weir-join --with stores.ndjson --on .store",
            input: "{\"sku\":\"A-1\",\"store\":\"S1\"}\n{\"sku\":\"B-2\",\"store\":\"S9\"}\n",
            output: "{\"sku\":\"A-1\",\"store\":\"S1\",\"city\":\"Lyon\"}\n"),
        StageExample(
            "A CSV lookup under a field, keeping unmatched records (1.0 matches 1)",
            command: "printf 'id,name,zip\\n1,Lyon,00742\\n' > stores.csv && weir-join --with stores.csv --on .store --key .id --as shop --left",
            input: "{\"store\":1.0}\n{\"store\":2}\n",
            output: "{\"store\":1.0,\"shop\":{\"id\":1,\"name\":\"Lyon\",\"zip\":\"00742\"}}\n{\"store\":2,\"shop\":null}\n"),
        StageExample(
            "Records with no match, and lookup records nothing matched",
            command: "printf '{\"id\":1}\\n{\"id\":2}\\n' > known.ndjson && weir-join --with known.ndjson --on .id --anti --unmatched-lookup unused.ndjson && cat unused.ndjson",
            input: "{\"id\":1}\n{\"id\":3}\n",
            output: "{\"id\":3}\n{\"id\":2}\n"),
    ]
)

let invocation = StageInvocation(spec)
let options = invocation.options

// The keys.
guard let lookupPath = options.value("with") else { invocation.usageError("missing --with FILE (the lookup file)") }
guard let onProgram = ExpressionOptions.compileOption("on", invocation) else { invocation.usageError("missing --on EXPR (the key of each record)") }
let keyProgram = ExpressionOptions.compileOption("key", invocation) ?? onProgram

// What is written.
enum JoinMode { case inner, left, anti }
let modeFlags = ["inner", "left", "anti"].filter { options.flag($0) }
if modeFlags.count > 1 { invocation.usageError("--\(modeFlags[0]) and --\(modeFlags[1]) do not go together") }
let mode: JoinMode = options.flag("left") ? .left : options.flag("anti") ? .anti : .inner
let field = options.value("as")
if field != nil, options.flag("merge") { invocation.usageError("--as FIELD and --merge do not go together") }
if mode == .anti, field != nil || options.flag("merge") || options.flag("many") {
    invocation.usageError("--anti writes records as they came: leave out --as, --merge and --many")
}
let many = options.flag("many")
let unmatchedPath = options.value("unmatched-lookup")
if let unmatchedPath, unmatchedPath == options.value("output") || unmatchedPath == lookupPath || unmatchedPath == "-" {
    invocation.usageError("--unmatched-lookup FILE must be a file of its own (not -o, the lookup file or standard output)")
}

// The lookup file's format.
enum LookupFormat: String, CaseIterable { case ndjson, csv, tsv }
/// The lookup file's name without a `.gz` ending, which says how it is stored, not its format.
let lookupName = lookupPath.lowercased().hasSuffix(".gz") ? String(lookupPath.lowercased().dropLast(3)) : lookupPath.lowercased()
let format: LookupFormat = options.value("with-format") != nil ? invocation.choice("with-format", default: LookupFormat.ndjson)
    : lookupName.hasSuffix(".csv") ? .csv : lookupName.hasSuffix(".tsv") ? .tsv : .ndjson

/// The first output of `program` on `value`, nil when it yields nothing or null: a key that matches nothing.
func firstKey(_ program: Program, _ value: JSONValue, _ position: RecordPosition) throws(RecordError) -> JSONValue? {
    let key: JSONValue?
    do {
        key = try program.firstOutput(value, context: evaluationContext(position))
    } catch {
        throw recordError(error)
    }
    if case .null? = key { return nil }
    return key
}

/// Writes a lookup record as `KEY<TAB>RECORD` (KEY as ``GroupingKey`` text, empty for none).
func writeKeyed(_ record: UnsafeRawBufferPointer, key: Program, needsObject: Bool, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) {
    if needsObject, record.first != UInt8(ascii: "{") {
        throw RecordError("a lookup record must be an object to be merged (use --as FIELD for other values)")
    }
    let value = try RecordDecoding.parse(record, keeping: key.inputPaths)
    do throws(RecordError) {
        if let keyValue = try firstKey(key, value, position) { GroupingKey.write(keyValue, into: &output) }
    } catch {
        throw RecordError("--key: " + error.message)
    }
    output.append(0x09)
    output.append(contentsOf: record)
    output.append(0x0A)
}

/// A lookup NDJSON line: validated, compacted, keyed.
struct LookupLine: RecordTransform {
    let key: Program
    let needsObject: Bool
    var compact: [UInt8] = []

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        compact.removeAll(keepingCapacity: true)
        try RecordDecoding.compact(record, into: &compact)
        try compact.withBytes { (bytes) throws(RecordError) in
            try writeKeyed(bytes, key: key, needsObject: needsObject, at: position, into: &output)
        }
        return 1
    }
}

/// Lookup CSV rows: converted as weir-from-csv converts them, then keyed. A --key that fails
/// is reported with the row number (the header is row 1).
struct LookupRows: ChunkTransform {
    typealias Context = CSVChunkContext
    var rows: CSVToJSONTransform
    let key: Program
    let needsObject: Bool

    mutating func process(_ chunk: InputChunk<CSVChunkContext>, into output: inout ChunkOutput) async {
        var converted = ChunkOutput(sequence: chunk.sequence, stopsAtFirstProblem: true, inputByteCount: chunk.inputByteCount, maxRecordBytes: output.maxRecordBytes)
        await rows.process(chunk, into: &converted)
        var row = chunk.fileContext?.firstRow ?? 1
        let keyed: Bool = converted.bytes.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count, let newline = bytes[start...].firstIndex(of: 0x0A) {
                let record = UnsafeRawBufferPointer(rebasing: bytes[start..<newline])
                do throws(RecordError) {
                    try writeKeyed(record, key: key, needsObject: needsObject, at: RecordPosition(fileName: chunk.fileName, line: 0), into: &output.bytes)
                } catch {
                    output.problems = [RecordProblem(fileName: chunk.fileName, line: 0, column: nil, message: "row \(row): " + error.message,
                                                     input: Array(record), outputOffset: output.bytes.count)]
                    return false
                }
                row += 1
                start = newline + 1
            }
            return true
        }
        // The converter stops at its first bad row: every row before it is keyed above.
        if keyed, var problem = converted.problems.first {
            problem.outputOffset = output.bytes.count
            output.problems = [problem]
        }
    }
}

// What loading the lookup file gave: the table, or the problem that stopped it.
struct LookupLoad {
    var table = JoinTable()
    var problem: RecordProblem? = nil
    var isFull = false
}

/// Reads the lookup file into a table: each chunk's `KEY<TAB>RECORD` lines, in file order.
func loadLookup(path: String, format: LookupFormat, key: Program, needsObject: Bool, maxRecordBytes: Int) async -> LookupLoad {
    var load = LookupLoad()
    func add(_ output: inout ChunkOutput) -> Bool {
        output.bytes.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count, let tab = bytes[start...].firstIndex(of: 0x09) {
                let end = bytes[tab...].firstIndex(of: 0x0A) ?? bytes.count
                let key = tab > start ? UnsafeRawBufferPointer(rebasing: bytes[start..<tab]) : nil
                if !load.table.add(UnsafeRawBufferPointer(rebasing: bytes[(tab + 1)..<end]), key: key) {
                    load.isFull = true
                    return false
                }
                start = end + 1
            }
            return true
        }
    }
    switch format {
    case .ndjson:
        let lines = RecordChunkTransform<LookupLine, NoFileContext>(LookupLine(key: key, needsObject: needsObject))
        load.problem = await RecordFileLoader.load(path: path, framer: LineFramer(), transform: lines, maxRecordBytes: maxRecordBytes, consume: add)
    case .csv, .tsv:
        var settings = CSVReadSettings()
        if format == .tsv { settings.dialect = CSVDialect(delimiter: 0x09, quote: UInt8(ascii: "\"")) }
        let rows = LookupRows(rows: CSVToJSONTransform(options: settings.conversion), key: key, needsObject: needsObject)
        load.problem = await RecordFileLoader.load(path: path, framer: CSVInputFramer(settings: settings), transform: rows, maxRecordBytes: maxRecordBytes, consume: add)
    }
    return load
}

/// The message for a problem in the lookup file: `weir-join: FILE:LINE:COL: what is wrong`.
func lookupProblemMessage(_ problem: RecordProblem, executableName: String) -> String {
    if problem.isFatal { return "\(executableName): --with: \(problem.message)" }
    if problem.line == 0 { return "\(executableName): \(problem.fileName): \(problem.message)" }
    return ProblemReport.message(for: problem, executableName: executableName)
}

let load = await loadLookup(path: lookupPath, format: format, key: keyProgram, needsObject: field == nil && mode != .anti,
                            maxRecordBytes: invocation.configuration.maxRecordBytes)
if let problem = load.problem { invocation.failBeforeRun(lookupProblemMessage(problem, executableName: spec.executableName)) }
if load.isFull { invocation.failBeforeRun("\(spec.executableName): \(lookupPath): more than \(JoinTable.maxRecords) lookup records") }
let lookup = load.table

/// The merged record of which lookup keys were matched, handed from the transforms' finish to the sink.
final class MatchedKeys: Sendable {
    let value = Mutex<JoinMatchSet?>(nil)
}

/// Joins one record: evaluates --on, finds the matches, writes the record with each.
struct JoinRecord: RecordTransform {
    let table: JoinTable
    let on: Program
    let mode: JoinMode
    let field: String?
    let many: Bool
    let matchedOut: MatchedKeys?
    var matched: JoinMatchSet?
    var keyText: [UInt8] = []
    var scratch = ObjectEditing.Scratch()

    init(table: JoinTable, on: Program, mode: JoinMode, field: String?, many: Bool, matchedOut: MatchedKeys?) {
        self.table = table
        self.on = on
        self.mode = mode
        self.field = field
        self.many = many
        self.matchedOut = matchedOut
        matched = matchedOut == nil ? nil : JoinMatchSet(count: table.keyCount)
    }

    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        var isCompact = false
        let value = try RecordDecoding.parse(record, keeping: on.inputPaths, isCompact: &isCompact)
        var keyNumber: Int? = nil
        let key: JSONValue?
        do throws(RecordError) { key = try firstKey(on, value, position) } catch { throw RecordError("--on: " + error.message) }
        if let key {
            keyText.removeAll(keepingCapacity: true)
            GroupingKey.write(key, into: &keyText)
            keyNumber = keyText.withUnsafeBytes { self.table.keyNumber($0) }
        }
        if let keyNumber { matched?.insert(keyNumber) }
        guard let keyNumber else {
            guard mode != .inner else { return 0 }
            if mode == .left, let field {
                try Self.null.withBytes { (null) throws(RecordError) in
                    try ObjectEditing.appendSettingField(field, to: null, in: record, into: &output, scratch: &scratch)
                }
            } else {
                JSONCompactor.appendValidated(record, isCompact: isCompact, into: &output)  // validated by the parse above
            }
            output.append(0x0A)
            return 1
        }
        if mode == .anti { return 0 }
        let lookup = self.table
        var index = lookup.firstRecord(ofKey: keyNumber)
        var written = 0
        while true {
            try lookup.withRecord(index) { (match) throws(RecordError) in
                if let field {
                    try ObjectEditing.appendSettingField(field, to: match, in: record, into: &output, scratch: &scratch)
                } else {
                    try ObjectEditing.appendMerged(record, with: match, into: &output, scratch: &scratch)
                }
            }
            output.append(0x0A)
            written += 1
            guard many, let next = lookup.nextMatch(after: index) else { break }
            index = next
        }
        return written
    }

    private static let null: [UInt8] = Array("null".utf8)

    mutating func merge(_ other: consuming JoinRecord) {
        if let theirs = other.matched { matched?.formUnion(theirs) }
    }

    mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int {
        if let matched { matchedOut?.value.withLock { $0 = matched } }
        return 0
    }
}

/// Writes the joined records, reports the lookup's size for --stats, and writes the lookup
/// records nothing matched to --unmatched-lookup at the end (put in place on commit only).
struct JoinSink: OutputSink {
    let table: JoinTable
    let unmatchedPath: String?
    let matchedKeys: MatchedKeys?
    var unmatched: OutputTarget? = nil
    var unmatchedCount: Int? = nil

    /// Opens the --unmatched-lookup file (under a temporary name) before any output.
    mutating func begin(_ target: OutputTarget) throws(IOError) {
        unmatched = try unmatchedPath.map { (path) throws(IOError) in try OutputTarget(file: path) }
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        try target.write(bytes)
    }

    mutating func finish(_ target: OutputTarget) throws(IOError) {
        guard let unmatched else { return }
        let matched = matchedKeys?.value.withLock { $0 } ?? JoinMatchSet(count: table.keyCount)
        var buffer: [UInt8] = []
        var count = 0
        for index in 0..<table.recordCount {
            if let key = table.keyNumber(ofRecord: index), matched.contains(key) { continue }
            table.appendRecord(index, to: &buffer)
            buffer.append(0x0A)
            count += 1
            if buffer.count >= 256 * 1024 {
                try unmatched.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try unmatched.write(buffer)
        unmatchedCount = count
    }

    mutating func commit() throws(IOError) { try unmatched?.commit() }

    mutating func abandon() { unmatched?.abandon() }

    mutating func report(into report: inout SinkReport) {
        report.setStatistic("lookup_records", table.recordCount)
        report.setStatistic("lookup_keys", table.keyCount)
        report.setStatistic("lookup_bytes", table.bytesHeld)
        if let unmatchedCount { report.setStatistic("lookup_unmatched", unmatchedCount) }
    }
}

let matchedKeys = unmatchedPath == nil ? nil : MatchedKeys()
let sink = JoinSink(table: lookup, unmatchedPath: unmatchedPath, matchedKeys: matchedKeys)
await invocation.run(sink: sink) {
    JoinRecord(table: lookup, on: onProgram, mode: mode, field: field, many: many, matchedOut: matchedKeys)
}
