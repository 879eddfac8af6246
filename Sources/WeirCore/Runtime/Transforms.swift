/// A stage's per-record work: one record in, zero or more NDJSON lines out.
///
/// This is what most stages implement (`weir-cat`, `weir-filter`, `weir-map`): the runtime's
/// ``RecordChunkTransform`` feeds it the records of each chunk. Each worker task owns its own
/// instance (made by the stage's factory), so a transform may keep scratch state without
/// locks. Only ``process(_:at:into:)`` is required.
///
/// End of input: when the input is exhausted the runtime takes every worker's instance,
/// folds them into the first with ``merge(_:)`` (in worker order), and calls ``finish(into:)``
/// once on the result, whose output comes after all other output. A stage whose state
/// merges (counts, a top-N keeper, a partial aggregate) keeps it per worker and merges;
/// a stateless stage leaves both defaults (nothing). A stage that needs every record in
/// input order (tail, a reservoir sample) does that work in an ``OutputSink`` instead.
package protocol RecordTransform {
    /// Processes one record (its bytes without the line end) and appends whole
    /// `\n`-terminated output lines to `output`; returns how many output records it wrote
    /// (0 means the record was deliberately dropped). On a thrown error the runtime removes
    /// anything this call appended, so a record is either in the output or reported, never both.
    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int

    /// Takes over the state of another worker's instance (end of input). Default: nothing.
    mutating func merge(_ other: consuming Self)

    /// Appends end-of-input output after the last record; returns how many output records
    /// it wrote. Called once, on the merged instance. Default: nothing.
    mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int

    /// True when the records ``finish(into:)`` writes are input records that ``process(_:at:into:)``
    /// held back (and so returned 0 for: counted as dropped), as a top-N keeper's are: each one
    /// written at the end then counts as written instead of dropped, so `--stats` still adds up
    /// (read = written + dropped + rejected). False (the default) when they are new records
    /// (a count, a summary).
    var finishWritesHeldRecords: Bool { get }
}

extension RecordTransform {
    package mutating func merge(_ other: consuming Self) {}
    package mutating func finish(into output: inout [UInt8]) throws(RecordError) -> Int { 0 }
    package var finishWritesHeldRecords: Bool { false }
}

/// A stage's work on a whole chunk: for stages whose records are not lines (CSV) or that
/// await I/O per chunk (fetch). Most stages implement ``RecordTransform`` instead.
///
/// ``process(_:into:)`` may suspend (await a network reply or a child process); it runs on
/// the shared cooperative pool, never blocks a thread there, and should check for
/// cancellation (`Task.isCancelled`) between awaits: a stopped run cancels the workers.
/// End of input works as for ``RecordTransform``: ``merge(_:)`` then ``finish(into:)``.
package protocol ChunkTransform {
    /// The per-file state of the chunks it reads: its framer's ``RecordFramer/Context``.
    associatedtype Context: FileContext = NoFileContext

    /// Processes `chunk`, appending output and problems to `output` (see ``ChunkOutput/report(_:at:input:)``).
    mutating func process(_ chunk: InputChunk<Context>, into output: inout ChunkOutput) async

    /// Takes over the state of another worker's instance (end of input). Default: nothing.
    mutating func merge(_ other: consuming Self)

    /// Appends end-of-input output (and problems) once, on the merged instance. Default: nothing.
    mutating func finish(into output: inout ChunkOutput) async
}

extension ChunkTransform {
    package mutating func merge(_ other: consuming Self) {}
    package mutating func finish(into output: inout ChunkOutput) async {}
}

/// Runs a ``RecordTransform`` over each record of a chunk: its framer-supplied record
/// ranges, or else its lines (`\n` or `\r\n`, blank lines skipped).
package struct RecordChunkTransform<Transform: RecordTransform, Context: FileContext>: ChunkTransform {
    private var transform: Transform

    package init(_ transform: Transform) {
        self.transform = transform
    }

    package mutating func merge(_ other: consuming RecordChunkTransform<Transform, Context>) {
        transform.merge(other.transform)
    }

    package mutating func finish(into output: inout ChunkOutput) async {
        do {
            let written = try transform.finish(into: &output.bytes)
            output.recordsWritten += written
            output.outputRecords += written
            if transform.finishWritesHeldRecords { output.recordsDropped -= written }
        } catch {
            output.report(error, at: RecordPosition(fileName: "-", line: 0), input: UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    package mutating func process(_ chunk: InputChunk<Context>, into output: inout ChunkOutput) async {
        chunk.bytes.withUnsafeBytes { buffer in
            var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, inputIndex: chunk.inputIndex)
            if let records = chunk.records, let origins = chunk.origins {
                for (range, origin) in zip(records, origins) {
                    position.fileName = origin.fileName
                    position.line = origin.line
                    position.inputIndex = origin.inputIndex
                    let record = UnsafeRawBufferPointer(rebasing: buffer[range])
                    if let problem = origin.problem {
                        output.recordsRead += 1
                        if !output.report(problem, at: position, input: record) { return }
                        continue
                    }
                    if !processOne(record, position, &output) { return }
                }
                return
            }
            if let records = chunk.records, let base = buffer.baseAddress {
                // Lines and columns are carried forward from record to record, so a chunk
                // is scanned once whatever its layout (the elements of a minified array
                // share one line). A chunk's first line may have begun in an earlier chunk:
                // its columns continue from the file context's ``FileContext/chunkStartColumn``.
                let startColumn = chunk.fileContext?.chunkStartColumn ?? 1
                var lineStart = 1 - startColumn  // ≤ 0 while on a line begun before the chunk
                var scanned = 0
                for range in records {
                    var pointer = base + scanned
                    let end = base + range.lowerBound
                    while pointer < end, let newline = memchr(pointer, 0x0A, end - pointer) {
                        position.line += 1
                        pointer = UnsafeRawPointer(newline) + 1
                        lineStart = base.distance(to: pointer)
                    }
                    scanned = max(scanned, range.lowerBound)
                    position.firstColumn = range.lowerBound - lineStart + 1
                    if !processOne(UnsafeRawBufferPointer(rebasing: buffer[range]), position, &output) { return }
                }
                return
            }
            var lineStart = 0
            let count = buffer.count
            guard let base = buffer.baseAddress else { return }
            while lineStart < count {
                let lineEnd: Int
                if let newline = memchr(base + lineStart, 0x0A, count - lineStart) {
                    lineEnd = base.distance(to: UnsafeRawPointer(newline))
                } else {
                    lineEnd = count
                }
                var contentEnd = lineEnd
                if contentEnd > lineStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<contentEnd])
                if !LineCounter.isBlank(line) {
                    if !processOne(line, position, &output) { return }
                }
                position.line += 1
                lineStart = lineEnd + 1
            }
        }
    }

    /// Processes one record; returns false when the run must stop (a bad record under
    /// `--errors fail`, or the run was stopped: looked at every 256 records, so a stopped
    /// run does not wait for the rest of a chunk nobody will read).
    @inline(__always)
    private mutating func processOne(_ record: UnsafeRawBufferPointer, _ position: RecordPosition, _ output: inout ChunkOutput) -> Bool {
        let mark = output.bytes.count
        if output.recordsRead & 255 == 255, Task.isCancelled { return false }
        output.recordsRead += 1
        if record.count > output.maxRecordBytes { return output.reportOversized(at: position, input: record) }
        do {
            let written = try transform.process(record, at: position, into: &output.bytes)
            if written == 0 {
                output.recordsDropped += 1
            } else {
                output.recordsWritten += 1
                output.outputRecords += written
            }
            return true
        } catch {
            output.bytes.removeSubrange(mark...)
            return output.report(error, at: position, input: record)
        }
    }
}

/// Passes a chunk's `\n`-terminated lines through as they are, counting each as one record
/// read and written: for a source whose records need no per-record work or checking (the
/// lines of a ``GeneratedSource``), so the workers cost one line count per chunk.
package struct PassThroughLines: ChunkTransform {
    package init() {}

    package mutating func process(_ chunk: InputChunk<NoFileContext>, into output: inout ChunkOutput) async {
        let lines = chunk.bytes.withUnsafeBytes { LineCounter.count($0) }
        output.bytes = chunk.bytes
        output.recordsRead += lines
        output.recordsWritten += lines
    }
}

/// Line counting and blank-line detection over bytes.
package enum LineCounter {
    /// The number of `\n` bytes in `bytes`.
    package static func count(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard var pointer = bytes.baseAddress else { return 0 }
        let end = pointer + bytes.count
        var lines = 0
        while pointer < end, let found = memchr(pointer, 0x0A, end - pointer) {
            lines += 1
            pointer = UnsafeRawPointer(found) + 1
        }
        return lines
    }

    /// The lines of `bytes` in order (without `\n` or `\r\n`): nil for a blank line, which
    /// keeps its place in the line count.
    package static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>?] {
        var lines: [Range<Int>?] = []
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                let end = memchr(base + start, 0x0A, buffer.count - start).map { base.distance(to: UnsafeRawPointer($0)) } ?? buffer.count
                var contentEnd = end
                if contentEnd > start, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                lines.append(isBlank(UnsafeRawBufferPointer(rebasing: buffer[start..<contentEnd])) ? nil : start..<contentEnd)
                start = end + 1
            }
        }
        return lines
    }

    /// True when the line holds only spaces, tabs and carriage returns (or nothing).
    @inline(__always)
    package static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D { return false }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
