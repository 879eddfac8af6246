/// A stage's per-record work: one record in, zero or more NDJSON lines out.
///
/// Each worker task owns its own instance (made by the stage's factory), so a transform may
/// keep scratch state without locks. This is what `weir-cat`, `weir-filter` and `weir-map`
/// implement; the runtime's ``RecordChunkTransform`` feeds it the records of each chunk.
package protocol RecordTransform {
    /// Processes one record (its bytes without the line end) and appends whole
    /// `\n`-terminated output lines to `output`; returns how many output records it wrote
    /// (0 means the record was deliberately dropped). On a thrown error the runtime removes
    /// anything this call appended, so a record is either in the output or reported, never both.
    mutating func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int
}

/// A stage's work on a whole chunk: for stages whose records are not lines (CSV) or that
/// await I/O per chunk (fetch). Most stages implement ``RecordTransform`` instead.
package protocol ChunkTransform {
    /// Processes `chunk`, appending output and problems to `output` (see ``ChunkOutput/report(_:at:input:)``).
    mutating func process(_ chunk: InputChunk, into output: inout ChunkOutput) async
}

/// Runs a ``RecordTransform`` over each record of a chunk: its framer-supplied record
/// ranges, or else its lines (`\n` or `\r\n`, blank lines skipped).
package struct RecordChunkTransform<Transform: RecordTransform>: ChunkTransform {
    private var transform: Transform

    package init(_ transform: Transform) {
        self.transform = transform
    }

    package mutating func process(_ chunk: InputChunk, into output: inout ChunkOutput) async {
        chunk.bytes.withUnsafeBytes { buffer in
            var position = RecordPosition(fileName: chunk.fileName, line: chunk.firstLine, fileContext: chunk.fileContext)
            if let records = chunk.records {
                var scanned = 0
                for range in records {
                    position.line += LineCounter.count(UnsafeRawBufferPointer(rebasing: buffer[scanned..<range.lowerBound]))
                    scanned = range.lowerBound
                    var lineStart = range.lowerBound
                    while lineStart > 0, buffer[lineStart - 1] != 0x0A { lineStart -= 1 }
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

    /// Processes one record; returns false when the run must stop.
    @inline(__always)
    private mutating func processOne(_ record: UnsafeRawBufferPointer, _ position: RecordPosition, _ output: inout ChunkOutput) -> Bool {
        let mark = output.bytes.count
        output.recordsRead += 1
        if record.count > output.maxRecordBytes { return output.reportOversized(at: position, input: record) }
        do {
            let written = try transform.process(record, at: position, into: &output.bytes)
            if written == 0 { output.recordsDropped += 1 } else { output.recordsWritten += written }
            return true
        } catch {
            output.bytes.removeSubrange(mark...)
            return output.report(error, at: position, input: record)
        }
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
