/// A piece of input made of whole records, cut by the reader and handed to one worker.
///
/// Chunks, not records, cross task boundaries: a chunk holds a few hundred KiB (hundreds or
/// thousands of records), so the cost of a hop between tasks is paid once per chunk.
/// Per-file state a framer hands to the workers with each chunk of a file (a CSV header,
/// the column a chunk starts at): the ``RecordFramer/Context`` of a framer and the
/// ``ChunkTransform/Context`` of the transforms that read its chunks, checked by the compiler.
package protocol FileContext: Sendable {
    /// The 1-based column of the chunk's first byte on its line; chunks that start in the
    /// middle of a line (the elements of a minified array) say where. Default: 1.
    var chunkStartColumn: Int { get }
}

extension FileContext {
    package var chunkStartColumn: Int { 1 }
}

/// No per-file state: NDJSON lines, generated records.
package struct NoFileContext: FileContext {
    package init() {}
}

package struct InputChunk<Context: FileContext>: Sendable {
    /// Position in the whole run: 0, 1, 2, … (the ordered writer restores this order).
    package var sequence: Int
    /// The bytes of whole records (possibly with separators between them, see ``records``).
    package var bytes: [UInt8]
    /// The input file's name as given (`-` for standard input).
    package var fileName: String
    /// The 1-based physical line number of `bytes[0]` in the file.
    package var firstLine: Int
    /// Record ranges found by the framer, or nil when every non-blank line is a record.
    package var records: [Range<Int>]?
    /// Per-file state from the framer (a CSV header, say).
    package var fileContext: Context?
    /// A problem the reader found instead of records (an over-long record, an unreadable file).
    package var readerProblem: RecordProblem?
    /// The number of input bytes this chunk stands for (for progress; may exceed `bytes.count`).
    package var inputByteCount: Int
    /// Which input (0-based, in the order given) the chunk comes from, for sources that read several.
    package var inputIndex: Int = 0
    /// Where each record of ``records`` came from, for chunks that mix inputs (a merge);
    /// nil when all records come from `fileName`, counted from `firstLine`.
    var origins: [RecordOrigin]? = nil

    package init(
        sequence: Int, bytes: [UInt8], fileName: String, firstLine: Int, records: [Range<Int>]? = nil,
        fileContext: Context? = nil, readerProblem: RecordProblem? = nil, inputByteCount: Int,
        inputIndex: Int = 0, origins: [RecordOrigin]? = nil
    ) {
        self.sequence = sequence
        self.bytes = bytes
        self.fileName = fileName
        self.firstLine = firstLine
        self.records = records
        self.fileContext = fileContext
        self.readerProblem = readerProblem
        self.inputByteCount = inputByteCount
        self.inputIndex = inputIndex
        self.origins = origins
    }
}

/// The origin of one record in a chunk that mixes inputs.
package struct RecordOrigin: Sendable {
    /// The input's index (0-based, in the order given).
    package var inputIndex: Int
    /// The input's name as given (`-` for standard input).
    package var fileName: String
    /// The 1-based line on which the record starts.
    package var line: Int
    /// A problem the source already found with this record (its key could not be read):
    /// the record is reported under the error policy instead of being processed.
    package var problem: RecordError?

    package init(inputIndex: Int, fileName: String, line: Int, problem: RecordError? = nil) {
        self.inputIndex = inputIndex
        self.fileName = fileName
        self.line = line
        self.problem = problem
    }
}

/// Where a record came from: its input, file and line.
package struct RecordPosition: Sendable {
    /// The input file's name as given (`-` for standard input).
    package var fileName: String
    /// The 1-based line on which the record starts.
    package var line: Int
    /// The 1-based column of the record's first byte on its line (1 unless records share lines).
    package var firstColumn: Int = 1
    /// Which input (0-based, in the order given) the record comes from.
    package var inputIndex: Int = 0

    package init(fileName: String, line: Int, inputIndex: Int = 0) {
        self.fileName = fileName
        self.line = line
        self.inputIndex = inputIndex
    }

    /// `FILE` as shown in messages: `<stdin>` for standard input.
    package var displayName: String { InputName.display(fileName) }
}

/// Why one record could not be processed. Thrown by a stage's per-record work.
package struct RecordError: Error, Sendable {
    /// What is wrong, e.g. `expected ',' or '}' after an object value`.
    package var message: String
    /// The 1-based byte column within the record's first line, when known.
    package var column: Int?
    /// The 1-based line offset within the record (for multi-line records), 0 for the first line.
    var lineOffset: Int
    /// The line in the file, when the thrower knows it better than the reader (a framer).
    package var absoluteLine: Int? = nil
    /// Extra facts for the reject entry, written after `error` in this order (an HTTP
    /// status and body excerpt, a command's exit status and stderr): names must not be
    /// `file`, `line`, `column`, `error` or `input`.
    package var details: [(name: String, value: JSONValue)] = []

    package init(_ message: String, column: Int? = nil, lineOffset: Int = 0) {
        self.message = message
        self.column = column
        self.lineOffset = lineOffset
    }

    /// A record error from a JSON parse error at a byte offset within the record.
    package init(_ error: JSONError, in record: UnsafeRawBufferPointer) {
        var line = 0
        var lineStart = 0
        let end = min(error.offset, record.count)
        for index in 0..<end where record[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        self.init(error.message, column: error.offset - lineStart + 1, lineOffset: line)
    }
}

/// A bad record as the writer reports it: where, what, and the raw input.
package struct RecordProblem: Sendable {
    /// The input file's name (`-` for standard input).
    package var fileName: String
    /// The 1-based line of the problem.
    package var line: Int
    /// The 1-based column, when known.
    package var column: Int?
    /// What is wrong.
    package var message: String
    /// The record's raw bytes (for the reject file and the excerpt).
    package var input: [UInt8]
    /// True when `input` is only the start of the record (an over-long one).
    var inputTruncated: Bool = false
    /// How far into its chunk's output the problem sits (output before it is written first).
    package var outputOffset: Int
    /// True for a problem with the input as a whole (an unreadable file): never skipped.
    package var isFatal: Bool = false
    /// Extra facts for the reject entry (``RecordError/details``).
    package var details: [(name: String, value: JSONValue)] = []

    package init(fileName: String, line: Int, column: Int?, message: String, input: [UInt8], inputTruncated: Bool = false, outputOffset: Int, isFatal: Bool = false) {
        self.fileName = fileName
        self.line = line
        self.column = column
        self.message = message
        self.input = input
        self.inputTruncated = inputTruncated
        self.outputOffset = outputOffset
        self.isFatal = isFatal
    }
}

/// What a worker made of one chunk: output bytes, counts, and the problems in order.
package struct ChunkOutput: Sendable {
    /// The chunk's sequence number.
    package var sequence: Int
    /// Output bytes (whole NDJSON lines for most stages; the sink decides how to write them).
    package var bytes: [UInt8] = []
    /// Bad records, in input order, each with its offset into ``bytes``.
    package var problems: [RecordProblem] = []
    /// Records read from the input.
    package var recordsRead = 0
    /// Input records that made it to the output (once or more).
    package var recordsWritten = 0
    /// Output records written, when a record may yield several (`weir-map '.a, .b'`); 0
    /// means one per written record.
    var outputRecords = 0
    /// Records deliberately dropped by the stage's logic (a filter saying no).
    var recordsDropped = 0
    /// Input bytes this chunk stood for (for progress).
    package var inputByteCount = 0
    /// Set when the first problem must end the run (`--errors fail`): nothing after it was processed.
    package var stopped = false
    /// True when problems must stop processing (`--errors fail`).
    package let stopsAtFirstProblem: Bool
    /// The longest record accepted (`--max-line-bytes`); a longer one is a bad record.
    package let maxRecordBytes: Int

    package init(sequence: Int, stopsAtFirstProblem: Bool, inputByteCount: Int, maxRecordBytes: Int = Int.max) {
        self.sequence = sequence
        self.stopsAtFirstProblem = stopsAtFirstProblem
        self.inputByteCount = inputByteCount
        self.maxRecordBytes = maxRecordBytes
    }

    /// Reports a record over `--max-line-bytes` (keeping its first KiB); returns false when processing must stop.
    package mutating func reportOversized(at position: RecordPosition, input: UnsafeRawBufferPointer) -> Bool {
        problems.append(RecordProblem(
            fileName: position.fileName, line: position.line, column: nil,
            message: "record longer than --max-line-bytes (\(maxRecordBytes) bytes)",
            input: Array(input.prefix(1024)), inputTruncated: true, outputOffset: bytes.count))
        if stopsAtFirstProblem { stopped = true }
        return !stopsAtFirstProblem
    }

    /// Records a bad record at the current output position; returns false when processing must stop.
    @discardableResult
    package mutating func report(_ error: RecordError, at position: RecordPosition, input: UnsafeRawBufferPointer) -> Bool {
        let column = error.lineOffset == 0 ? error.column.map { $0 + position.firstColumn - 1 } : error.column
        problems.append(RecordProblem(
            fileName: position.fileName, line: position.line + error.lineOffset, column: column,
            message: error.message, input: Array(input), outputOffset: bytes.count))
        problems[problems.count - 1].details = error.details
        if stopsAtFirstProblem { stopped = true }
        return !stopsAtFirstProblem
    }
}
