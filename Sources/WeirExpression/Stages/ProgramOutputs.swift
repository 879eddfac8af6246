import WeirCore

/// Runs a program on each record and writes every output as one compact line, like
/// `jq -c EXPR`: the per-record work of `weir-map`, and of `weir-seq --template` on the
/// records it generates.
package struct ProgramOutputs: RecordTransform {
    /// The compiled expression.
    package let program: Program
    /// False for records that come from no file (generated): `input_filename` is then null.
    package let recordsHaveFiles: Bool

    package init(program: Program, recordsHaveFiles: Bool = true) {
        self.program = program
        self.recordsHaveFiles = recordsHaveFiles
    }

    /// Decodes the parts of the record the program reads and writes each output as a line.
    package func process(_ record: UnsafeRawBufferPointer, at position: RecordPosition, into output: inout [UInt8]) throws(RecordError) -> Int {
        let value = try RecordDecoding.parse(record, keeping: program.inputPaths)
        let context = recordsHaveFiles ? evaluationContext(position) : EvaluationContext(lineNumber: position.line)
        var written = 0
        do {
            try program.evaluate(value, context: context) { result in
                JSONWriter.write(result, into: &output)
                output.append(0x0A)
                written += 1
            }
        } catch {
            throw recordError(error)
        }
        return written
    }
}
