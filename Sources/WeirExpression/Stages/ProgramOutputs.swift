import WeirCore

/// Runs a program on each record and writes every output as one compact line, like
/// `jq -c EXPR` (or as text, like `jq -r`): the per-record work of `weir-map`, and of
/// `weir-seq --template` on the records it generates.
package struct ProgramOutputs: RecordTransform {
    /// How each output is written: as NDJSON, or as text for the end of a pipeline (jq's
    /// `-r`, `-j` and `--raw-output0`).
    package enum OutputFormat: Sendable {
        /// Compact JSON and a line end (jq -c).
        case json
        /// Strings as their text, other values as compact JSON, each followed by a line end (jq -r).
        case raw
        /// As ``raw``, with nothing after each output (jq -j).
        case joined
        /// As ``raw``, with a NUL after each output (jq --raw-output0); a string holding a
        /// NUL cannot be written so, and makes its record bad.
        case nulTerminated
    }

    /// jq 1.8's message for a string that holds a NUL under `--raw-output0`.
    static let nulInStringMessage = "Cannot dump a string containing NUL with --raw-output0 option"

    /// The compiled expression.
    package let program: Program
    /// False for records that come from no file (generated): `input_filename` is then null.
    package let recordsHaveFiles: Bool
    /// How outputs are written.
    package let format: OutputFormat

    package init(program: Program, recordsHaveFiles: Bool = true, format: OutputFormat = .json) {
        self.program = program
        self.recordsHaveFiles = recordsHaveFiles
        self.format = format
    }

    /// Decodes the parts of the record the program reads and writes each output in ``format``.
    package func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record, keeping: program.inputPaths)
        let context = recordsHaveFiles ? evaluationContext(position) : EvaluationContext(lineNumber: position.line)
        var written = 0
        do {
            if format == .json {
                try program.evaluate(value, context: context) { result in
                    guard JSONWriter.write(result, maxDepth: JSONParser.defaultMaxDepth, into: &output) else { throw TooDeep() }
                    output.append(0x0A)
                    written += 1
                }
            } else {
                let format = self.format
                try program.evaluate(value, context: context) { result in
                    if case .string(let text) = result {
                        // jq stops at the output it cannot write; Weir's records are whole or bad.
                        if format == .nulTerminated, text.utf8.contains(0) { throw NulInString() }
                        output.append(contentsOf: text.utf8)
                    } else if !JSONWriter.write(result, maxDepth: JSONParser.defaultMaxDepth, into: &output) {
                        throw TooDeep()
                    }
                    switch format {
                    case .json, .raw: output.append(0x0A)
                    case .joined: break
                    case .nulTerminated: output.append(0)
                    }
                    written += 1
                }
            }
        } catch is NulInString {
            throw RecordError(Self.nulInStringMessage)
        } catch is TooDeep {
            throw RecordError(Self.tooDeepMessage)
        } catch {
            throw recordError(error)
        }
        return written
    }

    /// Stops the evaluation at a string that `--raw-output0` cannot write.
    private struct NulInString: Error {}

    /// Weir's message for an output the next stage could not read (jq writes
    /// `<skipped: too deep>` in its place, which is not JSON).
    static let tooDeepMessage = "an output nests more than \(JSONParser.defaultMaxDepth) levels deep, more than the next stage can read"

    /// Stops the evaluation at an output nested deeper than the reader accepts.
    private struct TooDeep: Error {}
}
