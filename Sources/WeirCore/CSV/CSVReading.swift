/// Where the column names of a CSV file come from.
package enum CSVHeaderSource: Sendable, Equatable {
    /// The first non-blank record (after any preamble lines).
    case firstRow
    /// No header: the columns are named `1`, `2`, … after the first record's width.
    case numbered
    /// These names; the first record is data.
    case given([String])
}

/// Everything `weir-from-csv` reads a file with, from its command line.
package struct CSVReadSettings: Sendable {
    /// Delimiter and quote (the delimiter is replaced per file when ``sniff`` is set).
    package var dialect: CSVDialect = .csv
    /// Guess each file's delimiter from its first records.
    package var sniff = false
    /// Where the column names come from.
    package var header: CSVHeaderSource = .firstRow
    /// Physical lines to skip at the start of each file before the header (a preamble).
    package var skipLines = 0
    /// The encoding the input is transcoded from (nil: UTF-8, read as it is).
    package var transcodedFrom: CSVEncoding? = nil
    /// Types, empty fields, ragged rows, provenance.
    package var conversion = CSVConversionOptions()

    /// The defaults: RFC 4180, header row, numbers inferred.
    package init() {}
}

/// What the workers need to know about one input file: its columns and dialect.
package final class CSVFileContext: Sendable {
    /// The file name as given (`-` for standard input).
    package let fileName: String
    /// The file's dialect (its delimiter may have been sniffed).
    package let dialect: CSVDialect
    /// The byte classes of that dialect, shared by the workers.
    package let classes: CSVByteClasses
    /// The columns.
    package let header: CSVHeader
    /// The encoding the file is transcoded from (nil: UTF-8 as it is).
    package let transcodedFrom: CSVEncoding?

    /// A context for one file.
    package init(fileName: String, dialect: CSVDialect, header: CSVHeader, transcodedFrom: CSVEncoding? = nil) {
        self.fileName = fileName
        self.dialect = dialect
        self.classes = CSVByteClasses(dialect)
        self.header = header
        self.transcodedFrom = transcodedFrom
    }
}

/// What travels with each chunk of a CSV file: the file's context, the numbers of the
/// chunk's first row and line, and where its records start (after the preamble and
/// header, which stay in the first chunk).
///
/// The line is counted here rather than taken from the reader's count of `\n`s, because a
/// CSV line may also end in a `\r` alone.
package struct CSVChunkContext: FileContext {
    /// The file's columns and dialect.
    package var file: CSVFileContext
    /// The row number of the chunk's first record (the header is row 1 when there is one).
    package var firstRow: Int
    /// Offset of the first record byte in the chunk.
    var dataStart: Int
    /// The physical line of the byte at `dataStart`.
    package var firstLine: Int
}

/// Cuts CSV input into chunks of whole records for `weir-from-csv`, handling each file's
/// preamble, delimiter sniffing and header on the reader's side.
///
/// At the start of a file it skips the preamble lines, sniffs the delimiter if asked,
/// and reads the header record (or the first record's width for numbered columns); then
/// it cuts chunks with ``CSVRecordFramer`` and counts their records so every chunk knows
/// its first row number. A malformed header is reported once and the rest of that file
/// is skipped, since its rows cannot be named.
package struct CSVInputFramer: RecordFramer {
    package typealias Context = CSVChunkContext

    /// The settings.
    package let settings: CSVReadSettings
    private var framer: CSVRecordFramer
    private var fileName = "-"
    private var file: CSVFileContext? = nil
    private var skippingFile = false
    private var nextRow = 1
    /// The physical line at the start of the unconsumed input.
    private var nextLine = 1
    /// True when the bytes dropped by ``skipRecord(_:isEndOfInput:)`` ended in a `\r`, so a
    /// `\n` that starts the next ones belongs to the same line break.
    private var droppedCarriageReturn = false
    /// Offset in the current buffer where records start (the first chunk of a file only).
    private var dataStart = 0

    /// How much of a file is read before sniffing its delimiter (less only at its end).
    private static let sniffSampleBytes = 64 * 1024

    /// A framer for `settings`.
    package init(settings: CSVReadSettings) {
        self.settings = settings
        self.framer = CSVRecordFramer(quote: settings.dialect.quote)
    }

    /// Starts a file: its preamble, dialect and header are read afresh.
    package mutating func beginFile(name: String) {
        fileName = name
        file = nil
        skippingFile = false
        nextRow = 1
        nextLine = 1
        droppedCarriageReturn = false
        dataStart = 0
        framer.reset()
    }

    /// Cuts the whole records off the front of `bytes`, with their chunk context.
    package mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords<CSVChunkContext> {
        if skippingFile { return FramedRecords(length: bytes.count, records: []) }
        if file == nil {
            guard try readFileStart(bytes, isEndOfInput: isEndOfInput) else {
                if isEndOfInput { return FramedRecords(length: bytes.count, records: []) }  // nothing but preamble and blank lines
                return FramedRecords(length: 0)
            }
        }
        let view = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        var end = framer.completeRecordsEnd(in: view)
        if isEndOfInput {
            end = view.count
            framer.reset()
        } else if end > 0 {
            framer.consume(upTo: end)
        }
        if end == 0 && dataStart == 0 { return FramedRecords(length: 0) }
        let startLines = dataStart > 0 ? CSVRecordFramer.countLineBreaks(in: UnsafeRawBufferPointer(rebasing: bytes[..<dataStart])) : 0
        let context = CSVChunkContext(file: file!, firstRow: nextRow, dataStart: dataStart, firstLine: nextLine + startLines)
        let counts = CSVRecordFramer.countRecords(in: UnsafeRawBufferPointer(rebasing: view[0..<end]), quote: settings.dialect.quote)
        nextRow += counts.records
        nextLine += startLines + counts.lines
        let length = dataStart + end
        dataStart = 0
        return FramedRecords(length: length, records: nil, fileContext: context)
    }

    /// Skips a record longer than the reader allows, counting it as a row.
    package mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int? {
        if file == nil {
            // A header (or preamble) longer than the limit: the file cannot be read.
            skippingFile = true
            return bytes.count
        }
        dataStart = 0
        let end = framer.skipRecord(bytes, isEndOfInput: isEndOfInput)
        let dropped = UnsafeRawBufferPointer(rebasing: bytes[..<(end ?? bytes.count)])
        nextLine += CSVRecordFramer.countLineBreaks(in: dropped)
        if droppedCarriageReturn, dropped.first == 0x0A { nextLine -= 1 }  // the `\n` of a `\r\n` cut in two
        if !dropped.isEmpty { droppedCarriageReturn = dropped.last == 0x0D }
        guard let end else { return nil }
        nextRow += 1
        return end
    }

    /// Reports what the transcoder could not read in the preamble lines, which are skipped
    /// unread, as it would be reported in the header (a file read in the wrong byte order
    /// might otherwise vanish into a preamble with no line break in it).
    private mutating func checkPreamble(_ preamble: UnsafeRawBufferPointer) throws(RecordError) {
        guard let encoding = settings.transcodedFrom, let base = preamble.baseAddress,
              let index = CSVRecordFramer.firstIndex(of: 0xFF, in: base, from: 0, to: preamble.count),
              let problem = CSVTranscodingProblem(marker: preamble, at: index) else { return }
        skippingFile = true
        let lineStart = CSVRecordFramer.lastLineBreak(in: base, from: 0, to: index).map { $0 + 1 } ?? 0
        var failure = RecordError("in the preamble: \(problem.message(encoding)) (the rest of this file is skipped)", column: index - lineStart + 1)
        failure.absoluteLine = 1 + CSVRecordFramer.countLineBreaks(in: UnsafeRawBufferPointer(rebasing: preamble[..<index]))
        throw failure
    }

    /// Reads the preamble, dialect and header at the start of a file; false when more
    /// input is needed (or, at its end, when the file holds no record at all).
    private mutating func readFileStart(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var offset = 0
        for _ in 0..<settings.skipLines {
            guard let lineEnd = CSVRecordFramer.firstLineEnd(in: base, from: offset, to: bytes.count, isEndOfInput: isEndOfInput) else {
                if isEndOfInput { try checkPreamble(bytes) }
                return false
            }
            offset = lineEnd
        }
        try checkPreamble(UnsafeRawBufferPointer(rebasing: bytes[..<offset]))
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        var dialect = settings.dialect
        if settings.sniff {
            guard rest.count >= Self.sniffSampleBytes || isEndOfInput else { return false }
            let sample = UnsafeRawBufferPointer(rebasing: rest[..<min(rest.count, Self.sniffSampleBytes)])
            var sampleFramer = CSVRecordFramer(quote: dialect.quote)
            var sampleEnd = sampleFramer.completeRecordsEnd(in: sample)
            if isEndOfInput && sample.count == rest.count { sampleEnd = sample.count }
            if let delimiter = CSVDialect.sniff(UnsafeRawBufferPointer(rebasing: sample[..<sampleEnd]), quote: dialect.quote) {
                dialect.delimiter = delimiter
            }
        }
        guard let recordEnd = CSVRecordFramer.firstRecordEnd(in: rest, quote: dialect.quote, isEndOfInput: isEndOfInput) else {
            return false
        }
        // Tokenize the first record: the header, or the width of numbered columns.
        let firstLine = 1 + settings.skipLines
        var tokenizer = CSVTokenizer(chunk: UnsafeRawBufferPointer(rebasing: rest[..<recordEnd]), dialect: dialect, firstLine: firstLine,
                                     transcodedFrom: settings.transcodedFrom)
        do throws(CSVError) {
            _ = try tokenizer.nextRecord()
        } catch {
            skippingFile = true
            var failure = RecordError("in the header: \(error.message) (the rest of this file is skipped)", column: error.column)
            failure.absoluteLine = error.line
            throw failure
        }
        let header: CSVHeader
        let addedKeys = settings.conversion.addedKeys
        let reserved = addedKeys.map(\.key)
        switch settings.header {
        case .firstRow:
            header = CSVHeader.from(tokenizer, reserving: reserved)
            dataStart = offset + recordEnd
            nextRow = 2
        case .numbered:
            header = .numbered(tokenizer.fields.count, reserving: reserved)
            dataStart = offset
            nextRow = 1
        case .given(let names):
            header = CSVHeader(names: names, reserving: reserved)
            dataStart = offset
            nextRow = 1
        }
        file = CSVFileContext(fileName: fileName, dialect: dialect, header: header, transcodedFrom: settings.transcodedFrom)
        let displayName = InputName.display(fileName)
        for added in addedKeys {
            guard let renamed = header.displacedColumns[added.key] else { continue }
            SystemIO.printError("weir-from-csv: note: \(displayName) has a column \(JSONWriter.string(.string(added.key))), the name given to \(added.option); it is read as \(JSONWriter.string(.string(renamed)))")
        }
        let missing = settings.conversion.declaredTypes.keys.filter { !header.names.contains($0) }.sorted()
        if !missing.isEmpty {
            let names = missing.map { JSONWriter.string(.string($0)) }.joined(separator: ", ")
            SystemIO.printError("weir-from-csv: note: \(displayName) has no column \(names) named in --types")
        }
        return true
    }
}

/// Turns the chunks cut by ``CSVInputFramer`` into NDJSON, one object per row, on a worker.
///
/// Each record is tokenized and encoded straight into a byte buffer; a bad record (malformed
/// CSV, invalid UTF-8, a ragged row, a value that does not fit its declared type, or one
/// longer than `--max-line-bytes`) is reported with its row, line, column and field, and its
/// raw text goes to the reject file.
package struct CSVToJSONTransform: ChunkTransform {
    package typealias Context = CSVChunkContext

    /// The conversion settings.
    package let options: CSVConversionOptions
    private let scratch = Scratch()

    /// A transform converting with `options`.
    package init(options: CSVConversionOptions) {
        self.options = options
    }

    /// The worker's buffers and its encoder for the current file, reused across chunks.
    private final class Scratch {
        var buffer = CSVByteBuffer(capacity: 1 << 20)
        var file: CSVFileContext? = nil
        var encoder: CSVObjectEncoder? = nil
    }

    /// Converts the chunk's rows to NDJSON, reporting bad rows.
    package mutating func process(_ chunk: InputChunk<CSVChunkContext>, into output: inout ChunkOutput) async {
        guard let context = chunk.fileContext else { return }
        let scratch = self.scratch
        let file = context.file
        if scratch.file !== file {
            scratch.file = file
            scratch.encoder = CSVObjectEncoder(header: file.header, options: options, dialect: file.dialect,
                                               filename: InputName.display(chunk.fileName))
        }
        scratch.buffer.removeAll()
        chunk.bytes.withUnsafeBytes { all in
            var tokenizer = CSVTokenizer(chunk: UnsafeRawBufferPointer(rebasing: all[context.dataStart...]), dialect: file.dialect,
                                         classes: file.classes, firstLine: context.firstLine, firstRow: context.firstRow,
                                         transcodedFrom: file.transcodedFrom)
            while true {
                let problem: CSVError
                var counted = false
                do throws(CSVError) {
                    guard try tokenizer.nextRecord() else { break }
                    output.recordsRead += 1
                    counted = true
                    if tokenizer.recordEnd - tokenizer.recordStart > output.maxRecordBytes {
                        flush(&output)
                        let position = RecordPosition(fileName: chunk.fileName, line: tokenizer.recordLine)
                        if !output.reportOversized(at: position, input: tokenizer.recordText) { return }
                        continue
                    }
                    try scratch.encoder!.encode(tokenizer, into: &scratch.buffer)
                    output.recordsWritten += 1
                    continue
                } catch {
                    problem = error
                }
                if !counted { output.recordsRead += 1 }
                flush(&output)
                if !report(problem, tokenizer: tokenizer, header: file.header, context: context, fileName: chunk.fileName, into: &output) { return }
            }
        }
        flush(&output)
    }

    private func flush(_ output: inout ChunkOutput) {
        scratch.buffer.append(to: &output.bytes)
        scratch.buffer.removeAll()
    }

    private func report(_ error: CSVError, tokenizer: CSVTokenizer, header: CSVHeader, context: CSVChunkContext,
                        fileName: String, into output: inout ChunkOutput) -> Bool {
        var error = error
        if error.fieldName == nil, error.field > 0, error.field <= header.count { error.fieldName = header.names[error.field - 1] }
        var message = "row \(error.row)"
        if error.field > 0 {
            message += ", field \(error.field)"
            if let name = error.fieldName { message += " (\(JSONWriter.string(.string(name))))" }
        }
        message += ": " + error.message
        let position = RecordPosition(fileName: fileName, line: tokenizer.recordLine)
        let recordError = RecordError(message, column: error.column, lineOffset: error.line - tokenizer.recordLine)
        guard context.file.transcodedFrom != nil, tokenizer.recordText.contains(0xFF) else {
            return output.report(recordError, at: position, input: tokenizer.recordText)
        }
        // What could not be transcoded shows as U+FFFD rather than as the marker's bytes.
        return CSVTranscodingProblem.replacingMarkers(in: tokenizer.recordText).withUnsafeBytes { input in
            output.report(recordError, at: position, input: input)
        }
    }
}

/// Transcodes `--encoding latin1|windows-1252|utf-16` input to UTF-8 for the reader.
package struct CSVInputDecoder: InputDecoder {
    private var transcoder: CSVTranscoder

    /// A decoder from `encoding`.
    package init(_ encoding: CSVEncoding) {
        transcoder = CSVTranscoder(encoding)
    }

    /// Starts a file: BOM detection and byte offsets start over.
    package mutating func beginFile(name: String) {
        transcoder.beginFile()
    }

    /// Appends the UTF-8 form of `bytes` to `output`; what cannot be read is marked in it
    /// for the tokenizer to report (see ``CSVTranscodingProblem``), so this never throws.
    package mutating func decode(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) {
        transcoder.transcode(bytes, isEndOfInput: isEndOfInput, into: &output)
    }
}
