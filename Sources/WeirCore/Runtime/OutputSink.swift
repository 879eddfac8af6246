/// The sequential end of a stage: receives every chunk's output in input order.
///
/// Most stages use ``PassThroughSink`` (write the bytes). A stage that must see all its
/// output in order, or do work at end of input (wrap records in a JSON array, keep a CSV
/// header, sort, aggregate), supplies its own sink. It runs on one task, so it needs no locks.
package protocol OutputSink {
    /// Called once before any output.
    mutating func begin(_ target: OutputTarget) throws(IOError)
    /// Writes (or absorbs) one run of output bytes produced by the workers.
    mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError)
    /// Called once at the end of a successful run (not after a fatal error).
    mutating func finish(_ target: OutputTarget) throws(IOError)
}

/// Writes the workers' bytes as they are.
package struct PassThroughSink: OutputSink {
    package init() {}
    package mutating func begin(_ target: OutputTarget) throws(IOError) {}
    package mutating func write(_ bytes: UnsafeRawBufferPointer, to target: OutputTarget) throws(IOError) {
        try target.write(bytes)
    }
    package mutating func finish(_ target: OutputTarget) throws(IOError) {}
}

/// Writes bad records to the `--reject` file, one JSON object per line:
/// `{"file":…,"line":…,"column":…,"error":…,"input":…}`.
///
/// `input` is the raw record as a JSON string. When the record is not valid UTF-8 it is
/// written with U+FFFD replacements and the exact bytes follow in `input_base64`, so nothing
/// is lost; an over-long record's input is its first KiB with `"input_truncated":true`.
package final class RejectWriter {
    private let target: OutputTarget
    private var buffer: [UInt8] = []

    /// Opens the reject file (atomically replaced at the end, like `-o`).
    package init(path: String) throws(IOError) {
        target = path == "-" ? OutputTarget() : try OutputTarget(atomicFile: path)
    }

    /// The reject file's name.
    package var name: String { target.name }

    /// Adds one entry.
    package func write(_ problem: RecordProblem) throws(IOError) {
        buffer.append(contentsOf: #"{"file":"#.utf8)
        JSONWriter.writeString(problem.fileName == "-" ? "<stdin>" : problem.fileName, into: &buffer)
        buffer.append(contentsOf: #","line":"#.utf8)
        buffer.append(contentsOf: String(problem.line).utf8)
        if let column = problem.column {
            buffer.append(contentsOf: #","column":"#.utf8)
            buffer.append(contentsOf: String(column).utf8)
        }
        buffer.append(contentsOf: #","error":"#.utf8)
        JSONWriter.writeString(problem.message, into: &buffer)
        buffer.append(contentsOf: #","input":"#.utf8)
        let text = String(decoding: problem.input, as: UTF8.self)
        JSONWriter.writeString(text, into: &buffer)
        if !text.utf8.elementsEqual(problem.input) {
            buffer.append(contentsOf: #","input_base64":""#.utf8)
            buffer.append(contentsOf: Base64.encode(problem.input))
            buffer.append(UInt8(ascii: "\""))
        }
        if problem.inputTruncated { buffer.append(contentsOf: #","input_truncated":true"#.utf8) }
        buffer.append(contentsOf: "}\n".utf8)
        if buffer.count >= 64 * 1024 { try flush() }
    }

    /// Writes buffered entries.
    package func flush() throws(IOError) {
        guard !buffer.isEmpty else { return }
        try target.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and puts the file in place.
    package func commit() throws(IOError) {
        try flush()
        try target.commit()
    }
}

/// Standard base64 (RFC 4648) encoding of bytes.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 text of `bytes`, with `=` padding.
    package static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next(), third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(value >> 6 & 63)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(value & 63)])
        }
        return output
    }
}
