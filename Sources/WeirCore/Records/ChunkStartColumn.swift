#if canImport(Glibc)
import Glibc
#endif

/// The stream column of a chunk's first byte, handed to the workers as the chunk's
/// ``FramedRecords/fileContext`` by a framer whose chunks may start in the middle of a line
/// (the elements of a minified JSON array share one line across many chunks).
package struct ChunkStartColumn: Sendable, Equatable {
    /// The 1-based byte column of the chunk's first byte on its line.
    package var column: Int

    package init(_ column: Int) {
        self.column = column
    }
}
