/// Cuts a stream of input bytes into chunks that end on record boundaries.
///
/// The reader calls ``frame(_:isEndOfInput:)`` with the unconsumed input (which always starts
/// at a record boundary) and ships the returned prefix to a worker as one chunk. NDJSON's
/// framer (``LineFramer``) just finds the last line end; a CSV framer must track quotes; the
/// JSON-text framer of `weir-from-json` finds the elements of a top-level array. A framer
/// is sequential and may keep state across calls within a file.
package protocol RecordFramer: Sendable {
    /// The per-file state the framer hands to the workers with each chunk (none by default).
    associatedtype Context: FileContext = NoFileContext

    /// Called at the start of every input file (before any ``frame(_:isEndOfInput:)``).
    mutating func beginFile(name: String)

    /// Returns the prefix of `bytes` that holds only whole records. `length == 0` asks for
    /// more input (the reader reads more and calls again). At end of input the framer must
    /// consume everything or throw. Bytes that are not records (a CSV header, the `[` and
    /// commas of a JSON array) may be consumed and left out of ``FramedRecords/records``.
    mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords<Context>

    /// Discards the record that starts `bytes` because it is too long: returns how many bytes
    /// to drop through its end, or nil when its end is not in `bytes` (all of `bytes` is
    /// dropped and the reader calls again with what follows).
    mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int?
}

/// What a framer cut off the front of the input.
package struct FramedRecords<Context: FileContext>: Sendable {
    /// How many bytes are consumed (whole records and any separators between them).
    package var length: Int
    /// The records' byte ranges within the consumed prefix, or nil when every non-blank line is a record.
    package var records: [Range<Int>]?
    /// Per-file state to hand to the workers with this chunk (e.g. a CSV header).
    package var fileContext: Context?

    package init(length: Int, records: [Range<Int>]? = nil, fileContext: Context? = nil) {
        self.length = length
        self.records = records
        self.fileContext = fileContext
    }
}

/// The NDJSON framer: every line is a record.
///
/// It remembers how far it has looked for a line end, so a record longer than one read
/// (a 60 MB line) is scanned once in all, not once per read. With ``maxRecords`` set it
/// cuts after that many lines, for stages that want small chunks (a fetch stage wants a
/// few dozen requests per chunk, not thousands).
package struct LineFramer: RecordFramer {
    /// The most lines in one frame, or nil for as many as the bytes hold.
    package var maxRecords: Int?
    /// Bytes already known to hold no line end (since the last frame was cut).
    private var scanned = 0

    package init(maxRecords: Int? = nil) {
        self.maxRecords = maxRecords.map { max(1, $0) }
    }

    package mutating func beginFile(name: String) { scanned = 0 }

    package mutating func frame(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) throws(RecordError) -> FramedRecords<NoFileContext> {
        if let maxRecords, let base = bytes.baseAddress {
            var end = 0
            var lines = 0
            var searchFrom = min(scanned, bytes.count)
            while lines < maxRecords, searchFrom < bytes.count, let newline = memchr(base + searchFrom, 0x0A, bytes.count - searchFrom) {
                end = base.distance(to: UnsafeRawPointer(newline)) + 1
                searchFrom = end
                lines += 1
            }
            scanned = lines == 0 ? bytes.count : 0
            if lines == maxRecords { return FramedRecords(length: end) }
            if isEndOfInput { scanned = 0 }
            return FramedRecords(length: isEndOfInput ? bytes.count : end)
        }
        if isEndOfInput {
            scanned = 0
            return FramedRecords(length: bytes.count)
        }
        let start = min(scanned, bytes.count)
        guard let newline = ByteSearch.lastIndex(of: 0x0A, in: UnsafeRawBufferPointer(rebasing: bytes[start...])) else {
            scanned = bytes.count
            return FramedRecords(length: 0)
        }
        scanned = 0
        return FramedRecords(length: start + newline + 1)
    }

    package mutating func skipRecord(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool) -> Int? {
        scanned = 0
        guard let base = bytes.baseAddress, let newline = memchr(base, 0x0A, bytes.count) else { return nil }
        return base.distance(to: UnsafeRawPointer(newline)) + 1
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Turns raw input bytes into UTF-8 before framing (e.g. `--encoding latin1` or `utf-16`).
package protocol InputDecoder: Sendable {
    /// Called at the start of every input file.
    mutating func beginFile(name: String)
    /// Decodes `bytes`, appending UTF-8 to `output`; may keep an incomplete sequence for the
    /// next call. At end of input, an incomplete sequence is an error.
    mutating func decode(_ bytes: UnsafeRawBufferPointer, isEndOfInput: Bool, into output: inout [UInt8]) throws(RecordError)
}
