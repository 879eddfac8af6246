import Glibc

/// Where a stage's output goes: standard output, or a file written atomically.
///
/// With `-o FILE` the output is written to a temporary file beside FILE and renamed over
/// it only when the run succeeds, so a failed or interrupted run never leaves half a file
/// under the real name. A broken pipe on standard output (`| head -1`) surfaces as an
/// ``IOError`` with ``IOError/isBrokenPipe`` set; the runtime ends the stage quietly.
package final class OutputTarget {
    /// The descriptor to write to.
    package let descriptor: Int32
    /// The name used in messages (`<stdout>` or the file path).
    package let name: String
    private let finalPath: String?
    private let temporaryPath: String?

    /// Standard output.
    package init() {
        descriptor = SystemIO.standardOutput
        name = "<stdout>"
        finalPath = nil
        temporaryPath = nil
    }

    /// A file written atomically: a temporary file in the same directory, renamed at ``commit()``.
    package init(atomicFile path: String) throws(IOError) {
        let temporary = OutputTarget.temporaryName(for: path)
        descriptor = try SystemIO.createForWriting(temporary, exclusive: true)
        name = path
        finalPath = path
        temporaryPath = temporary
        CleanupOnSignal.register(temporary)
    }

    /// Writes bytes, throwing ``IOError`` (EPIPE, ENOSPC, …).
    package func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        try SystemIO.writeAll(descriptor, bytes, name: name)
    }

    /// Writes an array of bytes.
    package func write(_ bytes: [UInt8]) throws(IOError) {
        try SystemIO.writeAll(descriptor, bytes, name: name)
    }

    /// Finishes a successful run: for a file, sync, close and rename into place.
    package func commit() throws(IOError) {
        guard let finalPath, let temporaryPath else { return }
        do {
            try SystemIO.close(descriptor, name: finalPath, sync: true)
            try SystemIO.rename(temporaryPath, to: finalPath)
        } catch {
            SystemIO.unlinkQuietly(temporaryPath)
            throw error
        }
    }

    /// Abandons a failed run: for a file, remove the temporary file.
    package func abandon() {
        guard let temporaryPath else { return }
        SystemIO.closeQuietly(descriptor)
        SystemIO.unlinkQuietly(temporaryPath)
    }

    private static func temporaryName(for path: String) -> String {
        let directoryEnd = path.lastIndex(of: "/")
        let directory = directoryEnd.map { String(path[...$0]) } ?? ""
        let base = directoryEnd.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(base).weir-\(getpid()).tmp"
    }
}

/// Removes registered temporary files when SIGINT, SIGTERM or SIGHUP ends the process.
///
/// The handler only calls async-signal-safe functions (`unlink`, `signal`, `raise`) on
/// paths prepared in advance as C strings.
package enum CleanupOnSignal {
    private nonisolated(unsafe) static var paths: [UnsafeMutablePointer<CChar>] = []
    private nonisolated(unsafe) static var installed = false

    /// Registers a path to remove if a terminating signal arrives.
    package static func register(_ path: String) {
        paths.append(strdup(path))
        guard !installed else { return }
        installed = true
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                for path in CleanupOnSignal.paths { unlink(path) }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
