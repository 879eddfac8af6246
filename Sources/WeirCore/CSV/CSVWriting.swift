/// The columns of a `weir-to-csv` run once they are known, shared by the workers.
package final class CSVColumnSet: Sendable {
    /// The column names in order.
    package let names: [String]
    /// A set of `names`.
    package init(_ names: [String]) { self.names = names }
}

/// What travels with each chunk of NDJSON for `weir-to-csv`: the columns (nil while no
/// valid record has been seen) and whether this chunk starts the output with the header.
package struct CSVColumnsContext: FileContext {
    /// The columns, when known.
    package var columns: CSVColumnSet?
    /// True for the one chunk whose output must begin with the header row.
    package var writesHeader: Bool
}

/// Frames NDJSON lines for `weir-to-csv` and fixes the columns before any chunk leaves.
///
/// Without `--columns`, the columns are the flattened keys of the first record that is a
/// valid JSON object; the framer finds it on the reader's side (lines before it are
/// shipped as they are, for the workers to report), so that every worker converts rows
/// against the same columns in parallel. The first chunk with columns carries the order
/// to write the header.
package struct CSVColumnsFramer: RecordFramer {
    package typealias Context = CSVColumnsContext

    private var columns: CSVColumnSet?
    private let flattenDepth: Int
    private var headerShipped = false
    private var lines = LineFramer()

    /// A framer with `columns` given, or finding them in the first record when nil.
    package init(columns: [String]?, flattenDepth: Int) {
        self.columns = columns.map(CSVColumnSet.init)
        self.flattenDepth = flattenDepth
    }

    /// Nothing to do per file: the columns hold for the whole run.
    package mutating func beginFile(name: String) {}

    /// Cuts whole lines off the front of `bytes`, fixing the columns first if needed.
    package mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords<CSVColumnsContext> {
        var shippedBefore = 0
        if columns == nil {
            // Look for the first valid object among the complete lines.
            var flattener = CSVRecordFlattener(maxDepth: flattenDepth)
            var lineStart = 0
            while lineStart < bytes.count {
                guard let base = bytes.baseAddress else { break }
                var lineEnd = CSVRecordFramer.firstIndex(of: 0x0A, in: base, from: lineStart, to: bytes.count) ?? -1
                if lineEnd < 0 {
                    guard isEndOfInput else { break }
                    lineEnd = bytes.count
                }
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                if !LineCounter.isBlank(line), (try? flattener.flatten(line)) != nil {
                    var names: [String] = []
                    var seen = Set<String>()
                    for entry in flattener.entries where entry.memberCount == 0 {
                        let name = flattener.key(entry)
                        if seen.insert(name).inserted { names.append(name) }
                    }
                    columns = CSVColumnSet(names)
                    break
                }
                lineStart = lineEnd + 1
            }
            if columns == nil {
                // No valid record yet: ship the lines seen so far (the workers report them).
                let end = min(lineStart, bytes.count)
                return FramedRecords(length: isEndOfInput ? bytes.count : end, fileContext: CSVColumnsContext(columns: nil, writesHeader: false))
            }
            shippedBefore = lineStart
            if shippedBefore > 0 {
                return FramedRecords(length: shippedBefore, fileContext: CSVColumnsContext(columns: nil, writesHeader: false))
            }
        }
        let framed = try lines.frame(bytes, isEndOfInput: isEndOfInput)
        guard framed.length > 0 else { return FramedRecords(length: 0) }
        let context = CSVColumnsContext(columns: columns, writesHeader: !headerShipped)
        headerShipped = true
        return FramedRecords(length: framed.length, records: framed.records, fileContext: context)
    }

    /// Skips a line longer than the reader allows.
    package mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int? {
        lines.skipRecord(bytes, isEndOfInput: isEndOfInput)
    }
}

/// Converts each NDJSON record of a chunk into one CSV row under fixed columns, on a worker
/// (`--new-keys error` or `ignore`); writes the header first in the chunk that carries it.
///
/// Lines are split here rather than by ``RecordChunkTransform`` so that rows go straight
/// into one byte buffer per chunk and the chunk's context is looked at once.
package struct CSVRowTransform: ChunkTransform {
    package typealias Context = CSVColumnsContext

    /// The table settings (header, dialect, quoting, flattening, new keys).
    package let options: CSVTableOptions
    private let state = State()

    /// A transform writing rows with `options`.
    package init(options: CSVTableOptions) {
        self.options = options
    }

    /// The worker's table writer for the current column set, and its output buffer.
    private final class State {
        var columns: CSVColumnSet? = nil
        var writer: CSVTableWriter? = nil
        var buffer = CSVByteBuffer(capacity: 1 << 20)
    }

    /// Converts the chunk's records to rows, after the header when this chunk carries it.
    package mutating func process(_ chunk: InputChunk<CSVColumnsContext>, into output: inout ChunkOutput) async {
        let context = chunk.fileContext
        let state = self.state
        if let columns = context?.columns, state.columns !== columns {
            var rowOptions = options
            rowOptions.header = false
            state.columns = columns
            state.writer = CSVTableWriter(columns: columns.names, options: rowOptions)
        }
        if let context, context.writesHeader, options.header, let columns = context.columns {
            CSVFieldWriter(dialect: options.dialect, quoteAll: options.quoteAll, crlf: options.crlf).appendRow(columns.names, into: &output.bytes)
        }
        let hasColumns = context?.columns != nil
        state.buffer.removeAll()
        chunk.bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine)
            var lineStart = 0
            let count = buffer.count
            while lineStart < count {
                let lineEnd = CSVRecordFramer.firstIndex(of: 0x0A, in: base, from: lineStart, to: count) ?? count
                var contentEnd = lineEnd
                if contentEnd > lineStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<contentEnd])
                lineStart = lineEnd + 1
                defer { position.line += 1 }
                if LineCounter.isBlank(line) { continue }
                output.recordsRead += 1
                if line.count > output.maxRecordBytes {
                    flush(&output)
                    if !output.reportOversized(at: position, input: line) { return }
                    continue
                }
                let failure: RecordError
                if hasColumns {
                    do throws(JSONError) {
                        _ = try state.writer!.write(line, into: &state.buffer)
                        output.recordsWritten += 1
                        continue
                    } catch {
                        failure = RecordError(error, in: line)
                    }
                } else {
                    // Before the first valid record: this one is invalid too; say why.
                    var flattener = CSVRecordFlattener(maxDepth: options.flattenDepth)
                    do throws(JSONError) {
                        try flattener.flatten(line)
                        failure = RecordError("no columns yet")
                    } catch {
                        failure = RecordError(error, in: line)
                    }
                }
                flush(&output)
                if !output.report(failure, at: position, input: line) { return }
            }
        }
        flush(&output)
    }

    private func flush(_ output: inout ChunkOutput) {
        state.buffer.append(to: &output.bytes)
        state.buffer.removeAll()
    }
}

/// Validates each record for `--new-keys append` and passes it on compacted; the
/// sequential ``CSVAppendingSink`` then turns it into a row, since only it sees the keys
/// in order.
package struct CSVValidatingTransform: RecordTransform {
    private let state: State

    /// A transform checking records as a table writer with `options` would.
    package init(options: CSVTableOptions) {
        var checking = options
        checking.newKeys = .append
        checking.header = false
        state = State(options: checking)
    }

    private final class State {
        var writer: CSVTableWriter
        var buffer = CSVByteBuffer(capacity: 1 << 16)
        init(options: CSVTableOptions) { writer = CSVTableWriter(columns: nil, options: options) }
    }

    /// Checks one record and passes it on compacted, one per line.
    package mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        state.buffer.removeAll()
        do throws(JSONError) {
            _ = try state.writer.write(record, into: &state.buffer)
            try JSONCompactor.compact(record, into: &output)
        } catch {
            throw RecordError(error, in: record)
        }
        output.append(0x0A)
        return 1
    }
}

/// The end of `weir-to-csv`: passes rows through (fixed columns), or turns validated
/// records into rows itself (`--new-keys append`), adding columns on the right. Writes the
/// header alone when `--columns` is given and no record arrives.
///
/// Appending to standard output, a new column is noted on standard error, since the
/// header already written cannot change and earlier rows have fewer fields. Appending to a
/// file (`-o`), the rows go to a spill file beside it instead, and at the end the file is
/// written with the final header and every row padded to its width, so the result is a
/// rectangular CSV file, still in one streaming pass over the input.
package struct CSVTableSink: OutputSink {
    private let state: State
    private let executableName: String

    private final class State {
        let options: CSVTableOptions
        let givenColumns: [String]?
        let appending: Bool
        let spillPath: String?
        var spill: Int32 = -1
        var writer: CSVTableWriter
        var buffer = CSVByteBuffer(capacity: 1 << 20)
        var wroteAnything = false
        var recordNumber = 0
        /// Rows written to the spill file, and where the column count grew: (first row, count).
        var spilledRows = 0
        var widths: [(row: Int, columns: Int)] = []

        init(options: CSVTableOptions, columns: [String]?, appending: Bool, spillPath: String?) {
            self.options = options
            self.givenColumns = columns
            self.appending = appending
            self.spillPath = appending ? spillPath : nil
            var writerOptions = options
            if self.spillPath != nil { writerOptions.header = false }
            writer = CSVTableWriter(columns: columns, options: writerOptions)
        }
    }

    /// A sink for `options`; `appending` for `--new-keys append`, with `spillPath` (a
    /// temporary file beside the `-o` file) when the output can be rewritten at the end.
    package init(options: CSVTableOptions, columns: [String]?, appending: Bool, spillPath: String? = nil, executableName: String) {
        state = State(options: options, columns: columns, appending: appending, spillPath: spillPath)
        self.executableName = executableName
    }

    /// Opens the spill file when the output will be rewritten.
    package mutating func begin(_ target: OutputTarget) throws(IOError) {
        guard let spillPath = state.spillPath else { return }
        state.spill = try SystemIO.createForWriting(spillPath, exclusive: true)
        CleanupOnSignal.register(spillPath)
    }

    /// Writes rows, or turns validated records into rows when appending columns.
    package mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        guard !bytes.isEmpty else { return }
        state.wroteAnything = true
        guard state.appending else { return try target.write(bytes) }
        guard let base = bytes.baseAddress else { return }
        state.buffer.removeAll()
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = CSVRecordFramer.firstIndex(of: 0x0A, in: base, from: lineStart, to: bytes.count) ?? bytes.count
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            state.recordNumber += 1
            let columnsBefore = state.writer.columns.count
            // Records were validated by the workers, so this cannot fail.
            guard let added = try? state.writer.write(line, into: &state.buffer) else { continue }
            if state.spillPath != nil {
                if state.writer.columns.count != columnsBefore || state.widths.isEmpty {
                    state.widths.append((state.spilledRows, state.writer.columns.count))
                }
                state.spilledRows += 1
                if !added.isEmpty, state.spilledRows > 1 {
                    for name in added {
                        SystemIO.printError("\(executableName): note: new column \(JSONWriter.string(.string(name))) from record \(state.recordNumber) on; earlier rows get an empty field")
                    }
                }
            } else {
                for name in added {
                    SystemIO.printError("\(executableName): note: new column \(JSONWriter.string(.string(name))) from record \(state.recordNumber) on; the header written before it lacks it")
                }
            }
            if state.buffer.count >= 1 << 20 { try flush(target) }
        }
        try flush(target)
    }

    private func flush(_ target: OutputTarget) throws(IOError) {
        guard state.buffer.count > 0 else { return }
        let bytes = UnsafeRawBufferPointer(start: state.buffer.base, count: state.buffer.count)
        if state.spill >= 0 {
            try SystemIO.writeAll(state.spill, bytes, name: state.spillPath!)
        } else {
            try target.write(bytes)
        }
        state.buffer.removeAll()
    }

    /// Removes the spill file of a run that failed or was stopped (before or after the rewrite).
    package mutating func abandon() {
        guard let spillPath = state.spillPath else { return }
        if state.spill >= 0 {
            SystemIO.closeQuietly(state.spill)
            state.spill = -1
        }
        SystemIO.unlinkQuietly(spillPath)
        CleanupOnSignal.unregister(spillPath)
    }

    /// Writes the rewritten file, or the header alone when no record came.
    package mutating func finish(_ target: OutputTarget) throws(IOError) {
        if state.spill >= 0 {
            try rewrite(into: target)
            return
        }
        guard state.options.header, let columns = state.givenColumns, !columns.isEmpty else { return }
        if state.appending ? state.writer.rowCount == 0 : !state.wroteAnything {
            var output: [UInt8] = []
            CSVFieldWriter(dialect: state.options.dialect, quoteAll: state.options.quoteAll, crlf: state.options.crlf).appendRow(columns, into: &output)
            try target.write(output)
        }
    }

    /// Writes the final header, then the spilled rows, each padded to the final width.
    private func rewrite(into target: OutputTarget) throws(IOError) {
        let spillPath = state.spillPath!
        try SystemIO.close(state.spill, name: spillPath)
        state.spill = -1
        defer {
            SystemIO.unlinkQuietly(spillPath)
            CleanupOnSignal.unregister(spillPath)
        }
        let options = state.options
        let columns = state.writer.columns
        let fieldWriter = CSVFieldWriter(dialect: options.dialect, quoteAll: options.quoteAll, crlf: options.crlf)
        var output = CSVByteBuffer(capacity: 1 << 20)
        if options.header && !columns.isEmpty { fieldWriter.appendRow(columns, into: &output) }
        let input = try SystemIO.openForReading(spillPath)
        defer { SystemIO.closeQuietly(input) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var row = 0
        var widthIndex = 0
        var odd = false
        var scanned = 0
        var endOfInput = false
        let lineBreakLength = options.crlf ? 2 : 1
        while !endOfInput {
            let got = try chunk.withMutableBytes { (raw) throws(IOError) in
                try SystemIO.read(input, into: raw.baseAddress!, count: raw.count, name: spillPath)
            }
            if got == 0 { endOfInput = true } else { pending.append(contentsOf: chunk[0..<got]) }
            // Cut rows at line feeds outside quotes and pad each one.
            var rowStart = 0
            pending.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var position = scanned
                while let lineFeed = CSVRecordFramer.firstIndex(of: 0x0A, in: base, from: position, to: raw.count) {
                    odd = odd != CSVRecordFramer.hasOddCount(of: options.dialect.quote, in: base, from: position, to: lineFeed)
                    position = lineFeed + 1
                    if odd { continue }
                    while widthIndex + 1 < state.widths.count, state.widths[widthIndex + 1].row <= row { widthIndex += 1 }
                    let width = state.widths.isEmpty ? columns.count : state.widths[widthIndex].columns
                    let contentEnd = lineFeed + 1 - lineBreakLength
                    output.append(base.assumingMemoryBound(to: UInt8.self) + rowStart, contentEnd - rowStart)
                    for _ in width..<max(width, columns.count) {
                        output.append(options.dialect.delimiter)
                        if options.quoteAll {
                            output.append(options.dialect.quote)
                            output.append(options.dialect.quote)
                        }
                    }
                    output.append(fieldWriter.lineBreak)
                    rowStart = lineFeed + 1
                    row += 1
                }
                scanned = position - rowStart
            }
            pending.removeFirst(rowStart)
            if output.count >= 1 << 20 || endOfInput {
                try target.write(UnsafeRawBufferPointer(start: output.base, count: output.count))
                output.removeAll()
            }
        }
    }
}

extension CSVTableSink {
    /// A hidden temporary name beside `outputPath` for the rows spilled before the rewrite.
    package static func spillPath(forOutput outputPath: String) -> String {
        SystemIO.temporaryName(beside: outputPath, kind: "rows")
    }
}

#if canImport(Glibc)
import Glibc
#endif
