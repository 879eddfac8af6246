/// Why a CSV record was rejected, and where: physical line, byte column, row and field.
///
/// Lines count every physical line of the input from 1 (blank lines and preamble
/// included); rows count records from 1, header included, blank lines not; `column` is the
/// 1-based byte offset within the line; `field` the 1-based field number. Positions are
/// relative to what the tokenizer was told about its chunk's first line and row, so a
/// worker that does not know them yet can report `1` and have them shifted later
/// (``shifted(lines:rows:)``).
package struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, in words a user understands.
    package var message: String
    /// The physical line of the problem.
    package var line: Int
    /// The byte column of the problem within its line (1-based).
    package var column: Int
    /// The record number (1-based, header included).
    package var row: Int
    /// The field number (1-based), or 0 when the problem is about the record as a whole.
    package var field: Int
    /// The column name of the field, when known.
    package var fieldName: String?

    /// An error at a known place.
    package init(_ message: String, line: Int, column: Int, row: Int, field: Int = 0, fieldName: String? = nil) {
        self.message = message
        self.line = line
        self.column = column
        self.row = row
        self.field = field
        self.fieldName = fieldName
    }

    /// The same error with its line and row moved by the given amounts.
    func shifted(lines: Int, rows: Int) -> CSVError {
        var copy = self
        copy.line += lines
        copy.row += rows
        return copy
    }

    /// `LINE:COL: row R, field F (name): message`, the part after the file name.
    package var description: String {
        var text = "\(line):\(column): row \(row)"
        if field > 0 {
            text += ", field \(field)"
            if let fieldName { text += " (\(fieldName))" }
        }
        return text + ": " + message
    }
}
