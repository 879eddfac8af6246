#if canImport(Glibc)
import Glibc
#endif

/// Where a stage's output goes: standard output, or a file named by `-o`/`--reject`.
///
/// A regular file (or a path that does not exist yet) is written atomically: a temporary
/// file beside it, renamed over it only when the run succeeds, so a failed or interrupted
/// run never leaves half a file under the real name; the replaced file's mode and owner are
/// kept. Anything else — a character device (`/dev/null`, `/dev/full`), a FIFO, a terminal —
/// is opened and written in place, since replacing it would destroy it. A symbolic link is
/// followed to its target (`-o /dev/stdout` writes to standard output), and the target is
/// then treated by the same rules. Messages always name the path the user gave, never the
/// temporary file. A broken pipe surfaces as an ``IOError`` with ``IOError/isBrokenPipe``
/// set; the runtime ends the stage quietly.
///
/// A file whose name ends in `.gz` is written gzip-compressed (one member, zlib's default
/// level), by the same rules: the member is finished at ``commit()``, before the rename.
package final class OutputTarget {
    /// The descriptor to write to.
    package let descriptor: Int32
    /// The name used in messages (`<stdout>` or the path as given).
    package let name: String
    private let finalPath: String?
    private let temporaryPath: String?
    private var closed = false
    /// Compresses what is written, for a `.gz` file.
    private let compressor: GzipDeflater?

    /// Standard output.
    package init() {
        descriptor = SystemIO.standardOutput
        name = "<stdout>"
        finalPath = nil
        temporaryPath = nil
        compressor = nil
    }

    /// The file at `path`: atomically replaced if it is a regular file or new, else written in place.
    package init(file path: String) throws(IOError) {
        name = path
        compressor = GzipFormat.compressesOutput(to: path) ? GzipDeflater() : nil
        let resolved = SystemIO.resolveSymbolicLinks(path)
        // `/dev/stdout`, `/dev/fd/N` and `/proc/self/fd/N` name an open descriptor: it is
        // duplicated, never reopened or replaced, so `-o /dev/stdout >> file` appends where
        // the shell said.
        if let open = Self.openDescriptor(named: path) ?? Self.openDescriptor(named: resolved) {
            let duplicate = dup(open)
            if duplicate < 0 { throw IOError(code: errno, context: "cannot write '\(path)'") }
            descriptor = duplicate
            finalPath = nil
            temporaryPath = nil
            return
        }
        if let existing = SystemIO.fileStatus(resolved), (existing.st_mode & S_IFMT) != S_IFREG {
            descriptor = try SystemIO.openForWritingInPlace(resolved, name: path)
            finalPath = nil
            temporaryPath = nil
            return
        }
        let (temporary, descriptor) = try SystemIO.createTemporary(beside: resolved, name: path)
        if let existing = SystemIO.fileStatus(resolved) {
            _ = fchmod(descriptor, existing.st_mode & 0o7777)
            _ = fchown(descriptor, existing.st_uid, existing.st_gid)
        }
        self.descriptor = descriptor
        finalPath = resolved
        temporaryPath = temporary
        SignalStop.register(temporary)
    }

    /// The descriptor a path such as `/dev/stdout`, `/dev/fd/3` or `/proc/self/fd/3` names.
    private static func openDescriptor(named path: String) -> Int32? {
        switch path {
        case "/dev/stdin": return 0
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default: break
        }
        for prefix in ["/dev/fd/", "/proc/self/fd/", "/proc/\(getpid())/fd/"] where path.hasPrefix(prefix) {
            return Int32(path.dropFirst(prefix.count))
        }
        return nil
    }

    /// Writes bytes (compressed for a `.gz` file), throwing ``IOError`` (EPIPE, ENOSPC, …).
    package func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard let compressor else { return try SystemIO.writeAll(descriptor, bytes, name: name) }
        try compressor.compress(bytes) { (compressed) throws(IOError) in try SystemIO.writeAll(descriptor, compressed, name: name) }
    }

    /// Writes an array of bytes.
    package func write(_ bytes: [UInt8]) throws(IOError) {
        try bytes.withBytes { (buffer) throws(IOError) in try write(buffer) }
    }

    /// Waits up to `seconds` for the reader of this output to go away, and returns true as
    /// soon as it has (a pipe whose reading end is closed: `poll(2)` reports `POLLERR`, or
    /// `POLLHUP` for a hung-up terminal or socket). For a file or a device nothing happens,
    /// so it simply sleeps. Lets a stage that waits (a rate limiter) notice a closed
    /// consumer at once instead of at its next write, however slow its rate.
    package func waitForReaderToLeave(upTo seconds: Double) -> Bool {
        guard seconds > 0 else { return false }
        var request = pollfd(fd: descriptor, events: 0, revents: 0)
        let milliseconds = Int32(min(seconds, 3600) * 1000)
        // poll(2) counts whole milliseconds: under one, look without waiting, then sleep precisely.
        let result = poll(&request, 1, milliseconds)
        if result > 0, request.revents & Int16(POLLNVAL) == 0 {
            return request.revents & Int16(POLLERR | POLLHUP) != 0
        }
        if result < 0 || (result == 0 && milliseconds > 0) { return false }
        var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&pause, &remaining) != 0, errno == EINTR { pause = remaining }
        return false
    }

    /// True when the output replaces a file at the end (so a failed run leaves nothing).
    package var isAtomic: Bool { temporaryPath != nil }

    /// Finishes a successful run: for an atomic file, sync, close and rename into place;
    /// for a file written in place, close it.
    package func commit() throws(IOError) {
        guard !closed, descriptor != SystemIO.standardOutput else { return }
        if let compressor {
            do throws(IOError) {
                try compressor.finish { (compressed) throws(IOError) in try SystemIO.writeAll(descriptor, compressed, name: name) }
            } catch {
                abandon()
                throw error
            }
        }
        closed = true
        guard let finalPath, let temporaryPath else {
            try SystemIO.close(descriptor, name: name)
            return
        }
        do {
            try SystemIO.close(descriptor, name: name, sync: true)
            try SystemIO.rename(temporaryPath, to: finalPath, name: name)
        } catch {
            SystemIO.unlinkQuietly(temporaryPath)
            SignalStop.unregister(temporaryPath)
            throw error
        }
        SignalStop.unregister(temporaryPath)
    }

    /// Abandons a failed run: for an atomic file, remove the temporary file.
    package func abandon() {
        guard !closed, descriptor != SystemIO.standardOutput else { return }
        closed = true
        SystemIO.closeQuietly(descriptor)
        guard let temporaryPath else { return }
        SystemIO.unlinkQuietly(temporaryPath)
        SignalStop.unregister(temporaryPath)
    }
}

/// The temporary-file registry under its older name, for sinks that keep spill files.
package enum CleanupOnSignal {
    /// Registers a path to remove if a terminating signal ends the process.
    package static func register(_ path: String) { SignalStop.register(path) }
    /// Forgets a registered path (it was removed).
    package static func unregister(_ path: String) { SignalStop.unregister(path) }
}

extension SystemIO {
    /// `stat(2)` of `path` (following links), or nil when it does not exist or cannot be read.
    static func fileStatus(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// The file's identity (device and inode), following links; nil when it does not exist.
    static func fileIdentity(_ path: String) -> FileIdentity? {
        fileStatus(path).map { FileIdentity(device: UInt64($0.st_dev), inode: UInt64($0.st_ino), isRegular: ($0.st_mode & S_IFMT) == S_IFREG) }
    }

    /// `path` with symbolic links at its end followed (up to 40 hops), relative targets
    /// taken from the link's directory; a dangling link gives the path it points to. Stops
    /// at `/proc/…` and `/dev/fd/…`, which name open descriptors.
    static func resolveSymbolicLinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            // An open descriptor's name: its link points at whatever it is open on.
            if current.hasPrefix("/proc/") || current.hasPrefix("/dev/fd/") { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { return current }
            let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") {
                current = target
            } else if let slash = current.lastIndex(of: "/") {
                current = String(current[...slash]) + target
            } else {
                current = target
            }
        }
        return current
    }

    /// Opens an existing non-regular file (a device, a FIFO) for writing in place.
    static func openForWritingInPlace(_ path: String, name: String) throws(IOError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        if descriptor < 0 { throw IOError(code: errno, context: "cannot open '\(name)' for writing") }
        return descriptor
    }

    /// The hidden name beside `path` that a file is written under before it takes its real
    /// name: `DIR/.BASE.weir-PID.tmp`, with `-KIND` after `weir` when given (`weir-rows`)
    /// and `-N` after the process id for a retry.
    package static func temporaryName(beside path: String, kind: String? = nil, attempt: Int = 0) -> String {
        let directoryEnd = path.lastIndex(of: "/")
        let directory = directoryEnd.map { String(path[...$0]) } ?? ""
        let base = directoryEnd.map { String(path[path.index(after: $0)...]) } ?? path
        let tag = kind.map { "weir-\($0)" } ?? "weir"
        let suffix = attempt == 0 ? "" : "-\(attempt)"
        return "\(directory).\(base).\(tag)-\(getpid())\(suffix).tmp"
    }

    /// Creates a new temporary file beside `path` (same directory, so a rename is atomic),
    /// mode 0644 less the umask; errors name `name`, the path the user gave.
    package static func createTemporary(beside path: String, name: String) throws(IOError) -> (path: String, descriptor: Int32) {
        var attempt = 0
        while true {
            let temporary = temporaryName(beside: path, attempt: attempt)
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return (temporary, descriptor) }
            let code = errno
            if code == EEXIST, attempt < 100 {
                attempt += 1
                continue
            }
            throw IOError(code: code, context: "cannot create '\(name)'")
        }
    }
}

/// A file's device and inode: two paths name the same file when these are equal.
package struct FileIdentity: Equatable, Sendable {
    package var device: UInt64
    package var inode: UInt64
    /// True for a regular file (two paths to `/dev/null` may well be the same).
    var isRegular: Bool

    package static func == (left: FileIdentity, right: FileIdentity) -> Bool {
        left.device == right.device && left.inode == right.inode
    }
}
