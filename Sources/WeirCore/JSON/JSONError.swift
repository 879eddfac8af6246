/// Why a JSON text was rejected, and where.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem within the parsed text (0-based).
    package var offset: Int
    /// What was wrong, in words a user understands (`expected ',' or '}' after an object value`).
    package var message: String

    package init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    package var description: String { "at byte \(offset): \(message)" }
}
