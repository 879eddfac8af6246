import WeirCore

let spec = StageSpec(
    name: "from-json",
    summary: "turn any JSON text into NDJSON, one record per line",
    description: """
        Reads JSON text in any layout (pretty-printed, several values in a row, or one huge \
        top-level array) and writes each value as one compact line. The elements of a top-level \
        array become the records, as with jq -c '.[]'; every other top-level value is one record. \
        The input is streamed: a multi-gigabyte array is split with flat memory, one record at a \
        time, where jq would hold the whole document.

        Every record is validated as strictly as by weir-cat, and literals (numbers, string \
        escapes, key order) are kept byte for byte. A bad record is reported at its line and \
        column and handled by --errors. Stray bytes between values (a missing comma in the \
        top-level array, a stray ]) leave the rest of the text unreadable: that is reported \
        once and the rest of that file is skipped.
        """,
    options: [
        .flag("no-split-arrays", help: "Write a top-level array as one record instead of one record per element."),
    ],
    examples: [
        StageExample(
            "Split a top-level array into records",
            command: "weir-from-json",
            input: "[\n  {\"sku\": \"A-1\", \"stock\": 3},\n  {\"sku\": \"B-2\", \"stock\": 0}\n]\n",
            output: "{\"sku\":\"A-1\",\"stock\":3}\n{\"sku\":\"B-2\",\"stock\":0}\n"),
        StageExample(
            "Several pretty-printed values in a row",
            command: "weir-from-json",
            input: "{\n  \"a\": 1\n}\n{\n  \"a\": 2.50\n}\n",
            output: "{\"a\":1}\n{\"a\":2.50}\n"),
        StageExample(
            "Keep arrays whole",
            command: "weir-from-json --no-split-arrays",
            input: "[1, 2] [3]\n",
            output: "[1,2]\n[3]\n"),
    ]
)

let invocation = StageInvocation(spec)
let splitArrays = !invocation.options.flag("no-split-arrays")

/// Cuts the JSON text into records with ``JSONTextSplitter``; each chunk carries the column it
/// starts at (``ChunkStartColumn``), as a chunk of a minified array starts mid-line.
struct JSONTextFramer: RecordFramer {
    let splitArrays: Bool
    var splitter = JSONTextSplitter()
    var brokenFile = false
    var pendingFailure: RecordError? = nil

    mutating func beginFile(name: String) {
        splitter = JSONTextSplitter(splitTopLevelArrays: splitArrays)
        brokenFile = false
        pendingFailure = nil
    }

    mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords {
        if let failure = pendingFailure {
            pendingFailure = nil
            throw failure
        }
        if brokenFile { return FramedRecords(length: bytes.count, records: []) }
        let start = ChunkStartColumn(splitter.nextBufferLocation.column)
        let found = splitter.split(bytes, isEndOfInput: isEndOfInput)
        let recordsEnd = found.records.last?.range.upperBound ?? 0
        if let failure = found.failure {
            brokenFile = true
            var error = RecordError(failure.error.message + " (the rest of this file is skipped)", column: failure.location.column)
            error.absoluteLine = failure.location.line
            // Ship the records before the failure first; the next call reports it.
            if found.records.isEmpty { throw error }
            pendingFailure = error
            return FramedRecords(length: recordsEnd, records: found.records.map(\.range), fileContext: start)
        }
        return FramedRecords(length: max(found.consumed, recordsEnd), records: found.records.map(\.range), fileContext: start)
    }

    mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int? {
        // The splitter scans on through the too-long record without keeping it, and stops at its end.
        guard !brokenFile, splitter.discardUnfinishedRecord() else {
            brokenFile = true
            return isEndOfInput ? bytes.count : nil
        }
        let found = splitter.split(bytes, isEndOfInput: isEndOfInput)
        if found.skippedRecord != nil { return found.consumed }
        return isEndOfInput ? bytes.count : nil
    }
}

/// Validates and compacts each record.
struct CompactRecord: RecordTransform {
    func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        try RecordDecoding.compact(record, into: &output)
        output.append(0x0A)
        return 1
    }
}

await invocation.runChunks(framer: JSONTextFramer(splitArrays: splitArrays)) { RecordChunkTransform(CompactRecord()) }
