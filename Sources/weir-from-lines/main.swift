#if canImport(Glibc)
import Glibc
#endif
import WeirCore

let spec = StageSpec(
    name: "from-lines",
    summary: "turn each line of text into a JSON string (or an object holding it)",
    description: """
        Reads lines of text from each FILE in order and writes each as a JSON string, like \
        jq -R .: the way the output of ls, a log or a list of ids enters a pipeline. With \
        --as FIELD each line becomes {"FIELD":"the line"} instead, and --number-as FIELD adds \
        its line number, counted from 1 and on across the files as cat -n counts (so it is \
        unique in the run; one file at a time gives numbers per file). --number-as alone \
        puts the text under "line".

        Every line is a record, an empty line too (""), and a last line without a line end \
        is one. The line end is not part of the text: \\n, or \\r\\n as Weir reads every input \
        (jq -R keeps the \\r; a \\r elsewhere in a line is kept, written \\r). A UTF-8 byte \
        order mark at the start of a file is ignored, and a line over --max-line-bytes is a \
        bad record. Control characters, quotes and backslashes are escaped; everything else \
        is copied as it is.

        Invalid UTF-8 (a Latin-1 byte, a truncated sequence) makes its line a bad record, \
        reported as FILE:LINE:COL and handled by --errors (the reject file keeps the exact \
        bytes); with --lossy each bad sequence becomes U+FFFD instead and the line is kept.
        """,
    options: [
        .value("as", "FIELD", help: "Write each line as {\"FIELD\":\"line\"} instead of a bare string."),
        .value("number-as", "FIELD", help: "Add the line number (from 1, continued across files) under FIELD; the text goes under --as, or \"line\"."),
        .flag("lossy", help: "Replace invalid UTF-8 with U+FFFD instead of making the line a bad record."),
    ],
    examples: [
        StageExample(
            "Each line a JSON string, empty lines too",
            command: "weir-from-lines",
            input: "a1.txt\n\nsay \"hi\"\tthere\n",
            output: "\"a1.txt\"\n\"\"\n\"say \\\"hi\\\"\\tthere\"\n"),
        StageExample(
            "Numbered objects from a log",
            command: "weir-from-lines --as msg --number-as n",
            input: "GET /a 200\r\nGET /b 404\r\n",
            output: "{\"n\":1,\"msg\":\"GET /a 200\"}\n{\"n\":2,\"msg\":\"GET /b 404\"}\n"),
        StageExample(
            "Keep a Latin-1 line, its bad byte replaced",
            command: "printf 'caf\\xe9 cr\\xc3\\xa8me\\n' | weir-from-lines --lossy",
            input: "",
            output: "\"caf\u{FFFD} crème\"\n"),
    ]
)

var invocation = StageInvocation(spec)
let options = invocation.options
let numberField = options.value("number-as")
let textField = options.value("as") ?? (numberField == nil ? nil : "line")
if let numberField, numberField == textField {
    invocation.usageError("--number-as and --as name the same field '\(numberField)'")
}

/// Where a file's lines start in the run's count: lines of the files before it.
struct LinesBefore: FileContext {
    var count = 0
}

/// Cuts the input into chunks of whole lines (as ``LineFramer``), and when lines are
/// numbered counts them, so each chunk knows how many lines the earlier files had.
struct CountingLineFramer: RecordFramer {
    var lines = LineFramer()
    let counts: Bool
    var linesInEarlierFiles = 0
    var linesInFile = 0

    mutating func beginFile(name: String) {
        lines.beginFile(name: name)
        linesInEarlierFiles += linesInFile
        linesInFile = 0
    }

    mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords<LinesBefore> {
        let framed = try lines.frame(bytes, isEndOfInput: isEndOfInput)
        guard counts else { return FramedRecords(length: framed.length) }
        let consumed = UnsafeRawBufferPointer(rebasing: bytes[0..<framed.length])
        linesInFile += LineCounter.count(consumed)
        if isEndOfInput, let last = consumed.last, last != 0x0A { linesInFile += 1 }
        return FramedRecords(length: framed.length, fileContext: LinesBefore(count: linesInEarlierFiles))
    }

    mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int? {
        let dropped = lines.skipRecord(bytes, isEndOfInput: isEndOfInput)
        if dropped != nil || (isEndOfInput && !bytes.isEmpty) { linesInFile += 1 }
        return dropped
    }
}

/// Writes every line of a chunk as a JSON string, or an object holding it (and its number).
struct LinesToJSON: ChunkTransform {
    typealias Context = LinesBefore
    /// `{"FIELD":` (after the number, if any), or empty for bare strings.
    let textPrefix: [UInt8]
    /// `{"FIELD":`, or nil when lines are not numbered.
    let numberPrefix: [UInt8]?
    let lossy: Bool

    init(textField: String?, numberField: String?, lossy: Bool) {
        var prefix: [UInt8] = []
        var numberPrefix: [UInt8]? = nil
        if let numberField {
            var bytes: [UInt8] = [UInt8(ascii: "{")]
            JSONWriter.writeString(numberField, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            numberPrefix = bytes
        }
        if let textField {
            prefix.append(numberField == nil ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONWriter.writeString(textField, into: &prefix)
            prefix.append(UInt8(ascii: ":"))
        }
        textPrefix = prefix
        self.numberPrefix = numberPrefix
        self.lossy = lossy
    }

    mutating func process(_ chunk: InputChunk<LinesBefore>, into output: inout ChunkOutput) async {
        let isObject = !textPrefix.isEmpty
        let linesBefore = chunk.fileContext?.count ?? 0
        output.bytes.reserveCapacity(chunk.bytes.count + chunk.bytes.count / 4 + 64)
        chunk.bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, inputIndex: chunk.inputIndex)
            let count = buffer.count
            var lineStart = 0
            while lineStart < count {
                let lineEnd = memchr(base + lineStart, 0x0A, count - lineStart).map { base.distance(to: UnsafeRawPointer($0)) } ?? count
                var contentEnd = lineEnd
                if contentEnd > lineStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<contentEnd])
                if output.recordsRead & 255 == 255, Task.isCancelled { return }
                output.recordsRead += 1
                if line.count > output.maxRecordBytes {
                    if !output.reportOversized(at: position, input: line) { return }
                } else {
                    let mark = output.bytes.count
                    do throws(RecordError) {
                        if let numberPrefix {
                            output.bytes.append(contentsOf: numberPrefix)
                            Self.appendDecimal(linesBefore + position.line, to: &output.bytes)
                        }
                        output.bytes.append(contentsOf: textPrefix)
                        try TextLineEncoding.appendJSONString(line, lossy: lossy, into: &output.bytes)
                        if isObject { output.bytes.append(UInt8(ascii: "}")) }
                        output.bytes.append(0x0A)
                        output.recordsWritten += 1
                    } catch {
                        output.bytes.removeSubrange(mark...)
                        if !output.report(error, at: position, input: line) { return }
                    }
                }
                position.line += 1
                lineStart = lineEnd + 1
            }
        }
    }
}

extension LinesToJSON {
    /// Appends the digits of `number` (positive) without making a `String` per line.
    @inline(__always)
    static func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var value = number
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }
}

let lossy = options.flag("lossy")
await invocation.runChunks(framer: CountingLineFramer(counts: numberField != nil)) {
    LinesToJSON(textField: textField, numberField: numberField, lossy: lossy)
}
