#if canImport(Glibc)
import Glibc
#endif

/// A scratch file for data that never outlives the process (the sorted runs of an external
/// sort): created in a directory, then unlinked at once, so only its descriptor names it.
///
/// Why unlinked: nothing can leave it behind. Success, failure, SIGINT and even SIGKILL all
/// free its space when the descriptor closes (at ``close()`` or process exit). For the
/// instant between `open(2)` and `unlink(2)` its path is registered with ``SignalStop``,
/// which removes it if a signal ends the process in between.
package final class TemporaryFile {
    /// The descriptor, open for reading and writing.
    package let descriptor: Int32
    /// The directory it was made in, for messages.
    package let directory: String
    private var isOpen = true
    private nonisolated(unsafe) static var created = 0

    /// Creates an unlinked file in `directory` (mode 0600).
    package init(in directory: String, prefix: String) throws(IOError) {
        self.directory = directory
        Self.created += 1
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let path = "\(base)\(prefix).\(getpid()).\(Self.created).tmp"
        SignalStop.register(path)
        defer { SignalStop.unregister(path) }
        let opened = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if opened < 0 { throw IOError(code: errno, context: "cannot create a temporary file in '\(directory)'") }
        unlink(path)
        descriptor = opened
    }

    deinit { close() }

    /// Writes all of `bytes` at the current position; a full disk is reported as such.
    package func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        do throws(IOError) {
            try SystemIO.writeAll(descriptor, bytes, name: directory)
        } catch {
            if error.code == ENOSPC || error.code == EDQUOT {
                throw IOError(code: error.code, context: "the temporary directory '\(directory)' is full (--tmp DIR names another)")
            }
            throw IOError(code: error.code, context: "cannot write a temporary file in '\(directory)'")
        }
    }

    /// Moves back to the start, to read what was written.
    func rewind() throws(IOError) {
        if lseek(descriptor, 0, SEEK_SET) < 0 { throw IOError(code: errno, context: "cannot read a temporary file in '\(directory)'") }
    }

    /// Reads up to `count` bytes at the current position; 0 at the end.
    package func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(IOError) -> Int {
        try SystemIO.read(descriptor, into: buffer, count: count, name: "a temporary file in '\(directory)'")
    }

    /// Closes the descriptor, which frees the file's space.
    package func close() {
        guard isOpen else { return }
        isOpen = false
        SystemIO.closeQuietly(descriptor)
    }

    /// The temporary directory: `$TMPDIR`, else `/tmp`.
    package static var defaultDirectory: String {
        if let directory = SystemIO.environment("TMPDIR"), !directory.isEmpty { return directory }
        return "/tmp"
    }
}
